/**
 * The server's metrics. Pushed in as things happen: every HTTP request (server wrapper), every business turn
 * (a TurnObserver in ctx.observers), every upstream error (the registry's onUpstreamError, with the provider).
 * Read at scrape time, per provider: account / credential pool status (queue depth, in-flight per account) and
 * PoW pool statistics. Upstream, pool and turn series carry a `provider` label.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";
import type { AccountPoolStatus, CredentialPoolStatus, ProofOfWorkStats, ProviderId } from "../core/upstream/provider.ts";
import type { ClusterLeases, LeaseRefusal } from "../core/cluster/ports.ts";
import { VERSION } from "../version.ts";
import { dependencyUp, type ClusterView } from "./cluster-view.ts";
import { Counter, Gauge, Histogram, renderAll } from "./prometheus.ts";

/** HTTP time to response head (a stream's head comes early; its whole length is in the turn histogram). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Whole turns, first byte to last: language model answers take seconds to minutes. */
const TURN_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/** What a scrape reads of one provider. */
export interface ProviderScrape {
  provider: ProviderId;
  accounts?: AccountPoolStatus;
  credentials?: CredentialPoolStatus;
  pow?: ProofOfWorkStats;
}

/** What the scrape reads from the running server. */
export interface ScrapeSources {
  providers(): ProviderScrape[];
  /** Requests being served right now, the scrape itself excluded. */
  httpInFlight(): number;
  draining(): boolean;
  /** The cluster view (/readyz's `cluster`): dependency health, instances, cluster load, this instance's share. */
  cluster?(): ClusterView;
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
  /** PoW series exist only when a provider runs a worker pool. */
  private powShown: (Counter | Gauge)[] = [];
  /** Queue series exist only when a provider has an account pool. */
  private queueShown: Gauge[] = [];

  readonly httpRequests = new Counter("ds2api_http_requests_total", "HTTP requests by surface, method and status.", ["surface", "method", "status"]);
  readonly httpDuration = new Histogram("ds2api_http_request_duration_seconds", "Time from request to response head, by surface.", ["surface"], HTTP_BUCKETS);
  readonly turns = new Counter("ds2api_turns_total", "Business turns (chat requests) by surface, provider, model and status (499: client went away).", ["surface", "model", "status", "provider"]);
  readonly turnDuration = new Histogram("ds2api_turn_duration_seconds", "Business turn duration, start to last byte, by surface, provider and model.", ["surface", "model", "provider"], TURN_BUCKETS);
  readonly tokens = new Counter("ds2api_tokens_total", "Tokens counted locally by surface, provider, model and kind (prompt, completion, reasoning).", ["surface", "model", "kind", "provider"]);
  readonly finishes = new Counter("ds2api_turn_finish_reasons_total", "Completed turns by finish reason.", ["reason"]);
  readonly upstreamErrors = new Counter("ds2api_upstream_errors_total", "Errors from the upstream providers by kind (auth, rate_limit, timeout, protocol, login, empty_output, ...) and provider.", ["kind", "provider"]);

  private readonly httpInFlight = new Gauge("ds2api_http_in_flight_requests", "HTTP requests being served (streams included).");
  private readonly draining = new Gauge("ds2api_draining", "1 while the server is shutting down and refusing new requests.");
  private readonly accounts = new Gauge("ds2api_pool_accounts", "Accounts (or credential-pool entries) by provider and state.", ["provider", "state"]);
  private readonly poolInFlight = new Gauge("ds2api_pool_in_flight", "Account / credential leases held right now, by provider.", ["provider"]);
  private readonly queueDepth = new Gauge("ds2api_pool_queue_depth", "Requests waiting for an account, by provider.", ["provider"]);
  private readonly queueCapacity = new Gauge("ds2api_pool_queue_capacity", "Waiting requests allowed before 429, by provider.", ["provider"]);
  private readonly accountInFlight = new Gauge("ds2api_account_in_flight", "Requests in flight per account.", ["provider", "account"]);
  private readonly powWorkers = new Gauge("ds2api_pow_workers", "Proof-of-work worker threads.", ["provider"]);
  private readonly powInFlight = new Gauge("ds2api_pow_in_flight", "Proof-of-work solves running.", ["provider"]);
  private readonly powSolves = new Counter("ds2api_pow_solves_total", "Proof-of-work solves finished (unsolved included).", ["provider"]);
  private readonly powUnsolved = new Counter("ds2api_pow_unsolved_total", "Proof-of-work solves that found no answer.", ["provider"]);
  private readonly powSeconds = new Counter("ds2api_pow_solve_seconds_total", "Time spent solving proof-of-work challenges (divide by ds2api_pow_solves_total for the mean).", ["provider"]);
  private readonly powLast = new Gauge("ds2api_pow_last_solve_seconds", "Duration of the latest proof-of-work solve.", ["provider"]);
  private readonly dependencyUp = new Gauge("ds2api_dependency_up", "1 while a shared dependency (database, redis) answers, 0 while it is down.", ["dependency"]);
  private readonly clusterInstances = new Gauge("ds2api_cluster_instances", "Instances of the cluster seen by the heartbeat (1 alone).");
  private readonly clusterInFlight = new Gauge("ds2api_cluster_in_flight", "Account leases held over the whole cluster.");
  private readonly clusterWaiting = new Gauge("ds2api_cluster_waiting", "Requests waiting for an account over the whole cluster.");
  private readonly instanceShare = new Gauge("ds2api_instance_share_ratio", "This instance's share (0-1) of the cluster's in-flight requests (1 alone).");
  readonly leaseRefusals = new Counter("ds2api_lease_refusals_total", "Cluster lease requests refused, by reason (busy, paced, daily_cap, cooling, global).", ["reason"]);
  readonly leaseRenewFailures = new Counter("ds2api_lease_renew_failures_total", "Lease renewals that could not reach Redis.", []);
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
    const provider = info.turn.model.provider;
    this.turns.inc([surface, model, turnStatus(info), provider]);
    this.turnDuration.observe([surface, model, provider], info.ms / 1000);
    if (info.usage) {
      this.tokens.inc([surface, model, "prompt", provider], info.usage.promptTokens);
      this.tokens.inc([surface, model, "completion", provider], info.usage.completionTokens);
      this.tokens.inc([surface, model, "reasoning", provider], info.usage.reasoningTokens);
    }
    if (info.finishReason) this.finishes.inc([info.finishReason]);
  }

  /** The registry's onUpstreamError hook (bound, so it can be handed over as is). */
  readonly upstreamError = (kind: string, _account?: string, _message?: string, provider?: ProviderId): void => {
    this.upstreamErrors.inc([kind, provider ?? ""]);
  };

  /** A cluster lease was refused (counted by watchLeases). */
  leaseRefused(reason: LeaseRefusal): void {
    this.leaseRefusals.inc([reason]);
  }

  /** A lease renewal failed (the Redis leases call this). */
  leaseRenewFailed(): void {
    this.leaseRenewFailures.inc([]);
  }

  /** The same leases, counting every refusal by reason. */
  watchLeases(leases: ClusterLeases): ClusterLeases {
    return {
      tryAcquire: async (account, limits) => {
        const result = await leases.tryAcquire(account, limits);
        if (!result.ok) this.leaseRefused(result.reason);
        return result;
      },
      release: (account, leaseId) => leases.release(account, leaseId),
      setCooldown: (account, until) => leases.setCooldown(account, until),
      onFreed: (fn) => leases.onFreed(fn),
      reportLocal: (s) => leases.reportLocal(s),
      capacity: () => leases.capacity(),
    };
  }

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
      ...(src ? [this.accounts, this.poolInFlight, ...this.queueShown] : []),
      ...(src?.cluster ? [this.dependencyUp, this.clusterInstances, this.clusterInFlight, this.clusterWaiting, this.instanceShare, this.leaseRefusals, this.leaseRenewFailures] : []),
      ...this.powShown,
      this.buildInfo,
      this.startTime,
      this.residentMemory,
    ]);
  }

  private renderSources(src: ScrapeSources): void {
    this.httpInFlight.set([], src.httpInFlight());
    this.draining.set([], src.draining() ? 1 : 0);

    for (const g of [this.accounts, this.poolInFlight, this.queueDepth, this.queueCapacity, this.accountInFlight, this.powWorkers, this.powInFlight, this.powLast]) g.reset();
    this.powShown = [];
    this.queueShown = [];
    for (const p of src.providers()) this.renderProvider(p);
    if (src.cluster) this.renderCluster(src.cluster());
  }

  private renderCluster(view: ClusterView): void {
    this.dependencyUp.reset();
    for (const [dependency, up] of dependencyUp(view)) this.dependencyUp.set([dependency], up ? 1 : 0);
    this.clusterInstances.set([], view.instances);
    this.clusterInFlight.set([], view.capacity.in_flight);
    this.clusterWaiting.set([], view.capacity.waiting);
    this.instanceShare.set([], view.share.in_flight);
  }

  private renderProvider({ provider, accounts: pool, credentials, pow }: ProviderScrape): void {
    if (pool) {
      this.accounts.set([provider, "usable"], pool.usableNow);
      this.accounts.set([provider, "cooling_down"], pool.coolingDown);
      this.accounts.set([provider, "failing"], pool.failing);
      this.accounts.set([provider, "disabled"], pool.disabled);
      this.poolInFlight.set([provider], pool.inUse);
      this.queueDepth.set([provider], pool.waiting);
      this.queueCapacity.set([provider], pool.maxQueue);
      for (const a of pool.accounts) this.accountInFlight.set([provider, a.identifier], a.inflight);
      if (!this.queueShown.length) this.queueShown.push(this.queueDepth, this.queueCapacity, this.accountInFlight);
    }
    if (credentials) {
      this.accounts.set([provider, "usable"], credentials.usable);
      this.accounts.set([provider, "cooling_down"], credentials.cooling);
      this.accounts.set([provider, "exhausted"], credentials.exhausted);
      this.accounts.set([provider, "bad"], credentials.bad);
      this.accounts.set([provider, "disabled"], credentials.disabled);
      this.poolInFlight.set([provider], credentials.inUse);
    }
    if (pow) {
      if (!this.powShown.length) this.powShown.push(this.powWorkers, this.powInFlight, this.powSolves, this.powUnsolved, this.powSeconds);
      this.powWorkers.set([provider], pow.workers);
      this.powInFlight.set([provider], pow.inFlight);
      this.powSolves.setTotal([provider], pow.solves);
      this.powUnsolved.setTotal([provider], pow.unsolved);
      this.powSeconds.setTotal([provider], ((pow.avgMs ?? 0) * pow.solves) / 1000);
      if (pow.lastMs !== null) {
        this.powLast.set([provider], pow.lastMs / 1000);
        if (!this.powShown.includes(this.powLast)) this.powShown.push(this.powLast);
      }
    }
  }
}
