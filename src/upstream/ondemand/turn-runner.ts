/**
 * One OnDemand turn: take a key from the pool, get the key's session, send the query (stream or sync) and map
 * its frames to neutral events. Key-attributable failures (401/403/429) before any output open that key's
 * breaker and move the request to the next key, at most `max_account_attempts` keys; anything else ends the
 * turn with its class's answer (upstream-wide 503 + Retry-After, protocol 502, timeouts 504). Retries that are
 * not key changes: a session create answered by the transient 404 "no Route matched" is repeated once, and a
 * query answered 404 for its session gets a new session once.
 */
import { TurnError } from "../../core/turn/turn-error.ts";
import { coolsAccount, exhaustedAccountsError, failureToTurnError, type UpstreamFailure } from "../../core/turn/upstream-failure.ts";
import type { UpstreamEvent, UpstreamOutcome, UpstreamTurn } from "../../core/upstream/provider.ts";
import type { OnDemandClient, QueryBody } from "./client.ts";
import { KeyPool, NoKeyLeftError, type KeyLease } from "./credentials/pool.ts";
import { OnDemandError } from "./errors.ts";
import { classifyOnDemandError } from "./failure-map.ts";
import { buildQuery } from "./query.ts";
import type { SessionCache } from "./sessions.ts";
import type { OnDemandSettings } from "./settings.ts";
import { withTurnDeadline } from "../../core/upstream/turn-deadline.ts";

export interface TurnRunnerDeps {
  client: () => OnDemandClient;
  pool: KeyPool;
  sessions: SessionCache;
  settings: OnDemandSettings;
  report: (kind: string, keyId: string | undefined, message: string) => void;
}

interface Progress {
  emitted: boolean;
}


/** Never let a key reach a message (an upstream could echo it back). */
export function redact(message: string, secret: string): string {
  return secret.length >= 4 ? message.split(secret).join("****") : message;
}

function turnErrorFor(f: UpstreamFailure): TurnError {
  // A prompt over the endpoint's context is the caller's to fix: 400, not a 502.
  if (f.code === "context_length_exceeded") return new TurnError(400, f.message, f.code, undefined, "request");
  return failureToTurnError(f);
}

export class OnDemandTurnRunner {
  constructor(private readonly deps: TurnRunnerDeps) {}

  async *run(turn: UpstreamTurn, endpointId: string, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const limits = this.deps.settings.turnLimits();
    return yield* withTurnDeadline(limits.turnTimeoutMs, signal, (k, a, m) => this.deps.report(k, a, m), (limited) => this.withKeys(turn, endpointId, limited, limits.maxAccountAttempts));
  }

  private async *withKeys(turn: UpstreamTurn, endpointId: string, signal: AbortSignal, maxAttempts: number): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const tried = new Set<string>();
    const failures: UpstreamFailure[] = [];
    const body = buildQuery(turn, endpointId, this.deps.settings.responseMode());
    for (;;) {
      if (failures.length >= maxAttempts) throw exhaustedAccountsError(failures);
      let lease: KeyLease;
      try {
        lease = await this.deps.pool.acquire({ exclude: tried, noWait: failures.length > 0, signal });
      } catch (e) {
        if (e instanceof NoKeyLeftError && failures.length > 0) throw exhaustedAccountsError(failures);
        throw e;
      }
      tried.add(lease.id);
      const progress: Progress = { emitted: false };
      try {
        const outcome = yield* this.attempt(lease, body, progress, signal);
        return { ...outcome, account: lease.id };
      } catch (e) {
        if (!(e instanceof OnDemandError) || signal.aborted) throw e;
        const f = classifyOnDemandError(e);
        f.message = redact(f.message, lease.secret);
        this.deps.report(e.kind, lease.id, f.message);
        if (coolsAccount(f)) {
          lease.fail(f);
          this.deps.sessions.drop(lease.id);
          // Output already went to the client: another key would repeat it.
          if (progress.emitted) throw turnErrorFor(f);
          failures.push(f);
          continue;
        }
        lease.note(f.message);
        throw turnErrorFor(f);
      } finally {
        lease.release();
      }
    }
  }

  /** The key's session: cached, or a new one (a transient 404 on create is retried once). A probing key is recovered by it. */
  private async session(lease: KeyLease, signal: AbortSignal): Promise<string> {
    const create = async () => {
      try {
        return await this.deps.client().createSession(lease.secret, signal);
      } catch (e) {
        if (e instanceof OnDemandError && e.kind === "not_found" && !signal.aborted) {
          this.deps.report("session_404", lease.id, "session create answered 404 (transient); retried once");
          return await this.deps.client().createSession(lease.secret, signal);
        }
        throw e;
      }
    };
    const { id } = await this.deps.sessions.get(lease.id, create);
    if (lease.probing) lease.succeed();
    return id;
  }

  private async *attempt(lease: KeyLease, body: QueryBody, progress: Progress, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    let sessionId = await this.session(lease, signal);
    const client = this.deps.client();
    // A query answered 404 for its session: the session expired upstream; one new session, once.
    const withSessionRetry = async <T>(call: (sid: string) => Promise<T>): Promise<T> => {
      try {
        return await call(sessionId);
      } catch (e) {
        if (!(e instanceof OnDemandError) || e.kind !== "not_found" || signal.aborted) throw e;
        this.deps.sessions.drop(lease.id, sessionId);
        sessionId = await this.session(lease, signal);
        return await call(sessionId);
      }
    };

    if (body.responseMode === "sync") {
      const { answer, outputTokens } = await withSessionRetry((sid) => client.querySync(lease.secret, sid, body, signal));
      lease.succeed();
      if (answer) {
        progress.emitted = true;
        yield { type: "text", text: answer };
      }
      if (outputTokens !== undefined) yield { type: "usage", outputTokens };
      return { contentFiltered: false, truncated: false, empty: answer === "", reasoningOnly: false };
    }

    const frames = await withSessionRetry((sid) => client.openStream(lease.secret, sid, body, signal));
    let text = "";
    let reasoning = "";
    let done = false;
    for await (const f of frames) {
      switch (f.type) {
        case "text":
          if (!f.text) break;
          text += f.text;
          progress.emitted = true;
          yield { type: "text", text: f.text };
          break;
        case "reasoning":
          if (!f.text) break;
          reasoning += f.text;
          progress.emitted = true;
          yield { type: "reasoning", text: f.text };
          break;
        case "usage":
          if (f.outputTokens !== undefined) yield { type: "usage", outputTokens: f.outputTokens };
          break;
        case "completed":
          // The full answer repeated: emit a tail the deltas missed (only when it extends what was streamed).
          if (f.answer && f.answer.length > text.length && f.answer.startsWith(text)) {
            const tail = f.answer.slice(text.length);
            text = f.answer;
            progress.emitted = true;
            yield { type: "text", text: tail };
          }
          break;
        case "status":
          yield { type: "progress", what: f.what };
          break;
        case "heartbeat":
          break;
        case "error":
          throw f.error;
        case "done":
          done = true;
          break;
      }
      if (done) break;
    }
    if (!done) throw new OnDemandError("protocol", "the OnDemand stream ended without [DONE]", 200, undefined, undefined, "truncated_stream");
    lease.succeed();
    return { contentFiltered: false, truncated: false, empty: text === "", reasoningOnly: text === "" && reasoning !== "" };
  }
}
