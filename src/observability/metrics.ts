/**
 * The server's metrics. Pushed in as things happen: every HTTP request (server wrapper), every business turn
 * (a TurnObserver in ctx.observers), every upstream error (the backend's onUpstreamError). Read at scrape
 * time: account pool status (queue depth, in-flight per account) and PoW pool statistics.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { PoolStatus } from "../pool/account-pool.ts";
import type { PowPoolStats } from "../upstream/pow/pool.ts";
import { VERSION } from "../version.ts";
import { Counter, Gauge, Histogram, renderAll } from "./prometheus.ts";

/** HTTP time to response head (a stream's head comes early; its whole length is in the turn histogram). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Whole turns, first byte to last: language model answers take seconds to minutes. */
const TURN_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/** What the scrape reads from the running server. */
export interface ScrapeSources {
  pool(): PoolStatus;
  pow(): PowPoolStats | undefined;
  /** Requests being served right now, the scrape itself excluded. */
  httpInFlight(): number;
  draining(): boolean;
}

/** The status label of a turn: its HTTP-style status, "499" when the client went away (as Nginx logs it). */
export function turnStatus(info: Pick<TurnOutcomeInfo, "errorStatus" | "aborted">): string {
  if (info.errorStatus !== undefined) return String(info.errorStatus);
  if (info.aborted) return "499";
  return "200";
}

export class Metrics implements TurnObserver {
  private readonly startedAt = Date.now() / 1000;
  private sources?: ScrapeSources;
  /** PoW series exist only when the engine runs the worker pool. */
  private powShown: (Counter | Gauge)[] = [];

  readonly httpRequests = new Counter("ds2api_http_requests_total", "HTTP requests by surface, method and status.", ["surface", "method", "status"]);
  readonly httpDuration = new Histogram("ds2api_http_request_duration_seconds", "Time from request to response head, by surface.", ["surface"], HTTP_BUCKETS);
  readonly turns = new Counter("ds2api_turns_total", "Business turns (chat requests) by surface, model and status (499: client went away).", ["surface", "model", "status"]);
  readonly turnDuration = new Histogram("ds2api_turn_duration_seconds", "Business turn duration, start to last byte, by surface and model.", ["surface", "model"], TURN_BUCKETS);
  readonly tokens = new Counter("ds2api_tokens_total", "Tokens counted locally by surface, model and kind (prompt, completion, reasoning).", ["surface", "model", "kind"]);
  readonly finishes = new Counter("ds2api_turn_finish_reasons_total", "Completed turns by finish reason.", ["reason"]);
  readonly upstreamErrors = new Counter("ds2api_upstream_errors_total", "Errors from DeepSeek by kind (auth, rate_limit, timeout, protocol, login, empty_output, ...).", ["kind"]);

  private readonly httpInFlight = new Gauge("ds2api_http_in_flight_requests", "HTTP requests being served (streams included).");
  private readonly draining = new Gauge("ds2api_draining", "1 while the server is shutting down and refusing new requests.");
  private readonly accounts = new Gauge("ds2api_pool_accounts", "Accounts by state.", ["state"]);
  private readonly poolInFlight = new Gauge("ds2api_pool_in_flight", "Account leases held right now.");
  private readonly queueDepth = new Gauge("ds2api_pool_queue_depth", "Requests waiting for an account.");
  private readonly queueCapacity = new Gauge("ds2api_pool_queue_capacity", "Waiting requests allowed before 429.");
  private readonly accountInFlight = new Gauge("ds2api_account_in_flight", "Requests in flight per account.", ["account"]);
  private readonly powWorkers = new Gauge("ds2api_pow_workers", "Proof-of-work worker threads.");
  private readonly powInFlight = new Gauge("ds2api_pow_in_flight", "Proof-of-work solves running.");
  private readonly powSolves = new Counter("ds2api_pow_solves_total", "Proof-of-work solves finished (unsolved included).");
  private readonly powUnsolved = new Counter("ds2api_pow_unsolved_total", "Proof-of-work solves that found no answer.");
  private readonly powSeconds = new Counter("ds2api_pow_solve_seconds_total", "Time spent solving proof-of-work challenges (divide by ds2api_pow_solves_total for the mean).");
  private readonly powLast = new Gauge("ds2api_pow_last_solve_seconds", "Duration of the latest proof-of-work solve.");
  private readonly buildInfo = new Gauge("ds2api_build_info", "Version of the running build.", ["version"]);
  private readonly startTime = new Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.");
  private readonly residentMemory = new Gauge("process_resident_memory_bytes", "Resident memory size in bytes.");

  /** Server wrapper: one finished request head. */
  requestServed(surface: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc([surface, method, String(status)]);
    this.httpDuration.observe([surface], seconds);
  }

  /** TurnObserver: how a business turn ended. */
  turnEnded(info: TurnOutcomeInfo): void {
    const surface = info.turn.surface;
    const model = info.turn.model.id;
    this.turns.inc([surface, model, turnStatus(info)]);
    this.turnDuration.observe([surface, model], info.ms / 1000);
    if (info.usage) {
      this.tokens.inc([surface, model, "prompt"], info.usage.promptTokens);
      this.tokens.inc([surface, model, "completion"], info.usage.completionTokens);
      this.tokens.inc([surface, model, "reasoning"], info.usage.reasoningTokens);
    }
    if (info.finishReason) this.finishes.inc([info.finishReason]);
  }

  /** The backend's onUpstreamError hook (bound, so it can be handed over as is). */
  readonly upstreamError = (kind: string): void => {
    this.upstreamErrors.inc([kind]);
  };

  /** The server hands over what a scrape reads once it listens. */
  attach(sources: ScrapeSources): void {
    this.sources = sources;
  }

  /** Prometheus text for a scrape. */
  render(src: ScrapeSources | undefined = this.sources): string {
    if (src) this.renderSources(src);
    this.buildInfo.set([VERSION], 1);
    this.startTime.set([], this.startedAt);
    this.residentMemory.set([], process.memoryUsage.rss());
    return renderAll([
      this.httpRequests,
      this.httpDuration,
      ...(src ? [this.httpInFlight, this.draining] : []),
      this.turns,
      this.turnDuration,
      this.tokens,
      this.finishes,
      this.upstreamErrors,
      ...(src ? [this.accounts, this.poolInFlight, this.queueDepth, this.queueCapacity, this.accountInFlight] : []),
      ...this.powShown,
      this.buildInfo,
      this.startTime,
      this.residentMemory,
    ]);
  }

  private renderSources(src: ScrapeSources): void {
    this.httpInFlight.set([], src.httpInFlight());
    this.draining.set([], src.draining() ? 1 : 0);

    const pool = src.pool();
    this.accounts.reset();
    this.accounts.set(["usable"], pool.usableNow);
    this.accounts.set(["cooling_down"], pool.coolingDown);
    this.accounts.set(["failing"], pool.failing);
    this.accounts.set(["disabled"], pool.disabled);
    this.poolInFlight.set([], pool.inUse);
    this.queueDepth.set([], pool.waiting);
    this.queueCapacity.set([], pool.maxQueue);
    this.accountInFlight.reset();
    for (const a of pool.accounts) this.accountInFlight.set([a.identifier], a.inflight);

    const pow = src.pow();
    this.powShown = [];
    if (pow) {
      this.powWorkers.set([], pow.workers);
      this.powInFlight.set([], pow.inFlight);
      this.powSolves.setTotal([], pow.solves);
      this.powUnsolved.setTotal([], pow.unsolved);
      this.powSeconds.setTotal([], ((pow.avgMs ?? 0) * pow.solves) / 1000);
      this.powShown.push(this.powWorkers, this.powInFlight, this.powSolves, this.powUnsolved, this.powSeconds);
      if (pow.lastMs !== null) {
        this.powLast.set([], pow.lastMs / 1000);
        this.powShown.push(this.powLast);
      }
    }
  }
}
