/**
 * The DeepSeek web backend of a canonical turn: takes an account lease from the pool, logs in when needed,
 * runs the completion (continue rounds included), re-logs in once on an invalid token, fails over to another
 * account before the first visible byte, does the single empty-output retry, and always releases the lease.
 */
import type { UpstreamOutcome, UpstreamTurn, TurnBackend } from "../../core/turn/turn.ts";
import { TurnError } from "../../core/turn/turn-error.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AccountPool, Lease } from "../../pool/account-pool.ts";
import { AccountUnavailableError, LoginError, NoAccountsError, PoolBusyError } from "../../pool/pool-errors.ts";
import type { DeepSeekClient } from "./client.ts";
import { hadNoVisibleOutput, runCompletion, runEmptyOutputRetry, type CompletionPayload, type CompletionRun } from "./completion-runner.ts";
import { HISTORY_FILE_CONTENT_TYPE, HISTORY_FILE_NAME } from "../../core/prompt/history-file.ts";
import { DeepSeekError } from "./errors.ts";
import type { DeepSeekEvent } from "./events.ts";

export interface DeepSeekBackendDeps {
  /** The web client for an account (its proxy); no account = direct-token mode, no proxy. */
  client: (account?: string) => DeepSeekClient;
  pool: AccountPool;
  logger: Logger;
  /** `auto_delete.mode`: delete the session used (single) or every session of the account (all) after a turn. */
  autoDelete?: () => "none" | "single" | "all";
  /** Observers (metrics, admin "recent errors"). */
  onUpstreamError?: (kind: string, account: string | undefined, message: string) => void;
}

const VISIBLE = new Set(["reasoning", "text"]);

/** A completion run and the token it used (for auto_delete). */
interface SessionUse {
  token: string;
  run: CompletionRun;
}

/** Maps pool failures to the status a client should see. */
function poolError(e: unknown): TurnError | undefined {
  if (e instanceof PoolBusyError) return new TurnError(429, e.message, "rate_limit_exceeded", e.retryAfterSeconds);
  if (e instanceof NoAccountsError) return new TurnError(503, e.message, "no_accounts");
  if (e instanceof AccountUnavailableError) {
    // A pinned account: one status and message whether it is unknown or unusable (no account enumeration).
    if (e.pinned) return new TurnError(503, e.message, "account_unavailable");
    return e.missing ? new TurnError(400, e.message, "unknown_account") : new TurnError(503, e.message, "account_unavailable", 30);
  }
  return undefined;
}

function upstreamError(e: DeepSeekError): TurnError {
  switch (e.kind) {
    case "auth":
      return new TurnError(401, `DeepSeek rejected the account token: ${e.message}`, "upstream_auth");
    case "client_version":
    case "protocol":
      return new TurnError(502, e.message, `upstream_${e.kind}`);
    case "rate_limit":
      return new TurnError(429, e.message, "upstream_rate_limited", 30);
    case "timeout":
      return new TurnError(504, e.message, "upstream_timeout");
    default:
      return new TurnError(502, e.message, "upstream_error");
  }
}

export class DeepSeekBackend implements TurnBackend {
  constructor(private readonly deps: DeepSeekBackendDeps) {}

  async *run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const payload: CompletionPayload = {
      prompt: turn.prompt,
      modelType: turn.modelType,
      thinkingEnabled: turn.thinking,
      searchEnabled: turn.search,
      extra: turn.passthrough,
    };
    if (turn.directToken) return yield* this.attempt(payload, turn.historyFile, turn.directToken, undefined, signal);

    const tried = new Set<string>();
    let lastError: TurnError | undefined;
    for (;;) {
      let lease: Lease;
      try {
        lease = await this.deps.pool.acquire({ signal, pinned: turn.pinnedAccount, exclude: tried });
      } catch (e) {
        if (signal.aborted) throw e;
        // Every account was tried: report what went wrong with the last one rather than "unavailable".
        if (lastError && e instanceof AccountUnavailableError) throw lastError;
        throw poolError(e) ?? e;
      }
      tried.add(lease.identifier);
      try {
        let token: string;
        try {
          token = await lease.token();
        } catch (e) {
          const msg = (e as Error).message;
          lease.fail("login", msg);
          this.report("login", lease.identifier, msg);
          lastError = new TurnError(e instanceof LoginError && e.rejected ? 401 : 502, `account login failed: ${msg}`, "account_login_failed");
          if (turn.pinnedAccount) throw lastError;
          continue;
        }
        const outcome = yield* this.attempt(payload, turn.historyFile, token, lease, signal);
        return { ...outcome, account: lease.identifier };
      } catch (e) {
        if (e instanceof FailoverSignal) {
          lastError = e.error;
          if (turn.pinnedAccount) throw e.error;
          continue;
        }
        throw e;
      } finally {
        lease.release();
      }
    }
  }

  /** One account: completion with one re-login on an invalid token and one empty-output retry. */
  private async *attempt(
    basePayload: CompletionPayload,
    historyFile: string | undefined,
    token: string,
    lease: Lease | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const runs: SessionUse[] = [];
    try {
      return yield* this.attemptOnce(basePayload, historyFile, token, lease, signal, runs);
    } finally {
      this.cleanUpSessions(lease?.identifier, runs);
    }
  }

  /** auto_delete: runs detached with its own 10 s limit, even when the client has gone. */
  private cleanUpSessions(account: string | undefined, runs: SessionUse[]): void {
    const mode = this.deps.autoDelete?.() ?? "none";
    const used = runs.flatMap(({ token, run }) => (run.state.sessionId ? [{ token, id: run.state.sessionId }] : []));
    if (mode === "none" || used.length === 0) return;
    const client = this.deps.client(account);
    const signal = AbortSignal.timeout(10_000);
    const last = used.at(-1)!;
    const work =
      mode === "all"
        ? client.deleteAllSessions(last.token, signal)
        : Promise.all(used.map((s) => client.deleteSession(s.token, s.id, signal))).then(() => undefined);
    work.catch((e) => this.deps.logger.warn("session clean-up failed", { account, mode, error: (e as Error).message }));
  }

  private async *attemptOnce(
    basePayload: CompletionPayload,
    historyFile: string | undefined,
    token: string,
    lease: Lease | undefined,
    signal: AbortSignal,
    runs: SessionUse[],
  ): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const client = this.deps.client(lease?.identifier);
    let visible = false;
    let relogged = false;
    let run: CompletionRun | undefined;
    let payload = basePayload;
    for (;;) {
      try {
        if (historyFile && !payload.refFileIds?.length) {
          // The transcript belongs to the account that uploads it, so it is uploaded with this account's token.
          const file = await client.uploadFile(token, { data: historyFile, filename: HISTORY_FILE_NAME, contentType: HISTORY_FILE_CONTENT_TYPE, modelType: payload.modelType }, { signal });
          payload = { ...basePayload, refFileIds: [file.id] };
        }
        run = runCompletion({ client, token, payload, signal });
        runs.push({ token, run });
        for await (const ev of run) {
          if (VISIBLE.has(ev.type)) visible = true;
          yield ev;
        }
        break;
      } catch (e) {
        if (signal.aborted || !(e instanceof DeepSeekError)) throw e;
        this.report(e.kind, lease?.identifier, e.message);
        if (visible) throw upstreamError(e);
        if (e.kind === "auth" && lease && !relogged) {
          relogged = true;
          payload = basePayload; // a re-login may change nothing about the file, but upload it again with the new token
          try {
            token = await lease.relogin(token);
          } catch (le) {
            lease.fail("login", (le as Error).message);
            throw new FailoverSignal(new TurnError(401, `account login failed: ${(le as Error).message}`, "account_login_failed"));
          }
          continue;
        }
        if (lease && e.kind !== "client_version" && e.kind !== "protocol") {
          lease.fail(e.kind === "auth" ? "auth" : e.kind === "rate_limit" ? "rate_limited" : "upstream", e.message);
          throw new FailoverSignal(upstreamError(e));
        }
        throw upstreamError(e);
      }
    }
    if (hadNoVisibleOutput(run)) {
      const retry = runEmptyOutputRetry(run, { client, token, payload, signal });
      try {
        for await (const ev of retry) yield ev;
      } catch (e) {
        if (signal.aborted || !(e instanceof DeepSeekError)) throw e;
        throw upstreamError(e);
      }
      if (hadNoVisibleOutput(retry)) {
        lease?.fail("rate_limited", "empty output twice");
        this.report("empty_output", lease?.identifier, "upstream returned no visible output twice");
        return { contentFiltered: false, truncated: false, empty: true, reasoningOnly: retry.state.reasoning.trim().length > 0 };
      }
      run = retry;
    }
    lease?.succeed();
    const st = run.state;
    return {
      contentFiltered: st.contentFiltered,
      truncated: !st.finished && (st.lastStatus === "INCOMPLETE" || st.lastStatus === "AUTO_CONTINUE"),
      empty: false,
      reasoningOnly: false,
    };
  }

  private report(kind: string, account: string | undefined, message: string): void {
    this.deps.logger.warn("upstream error", { kind, account, message });
    this.deps.onUpstreamError?.(kind, account, message);
  }
}

/** Internal: this account failed before anything was shown; try another. */
class FailoverSignal extends Error {
  constructor(readonly error: TurnError) {
    super(error.message);
  }
}
