/**
 * The DeepSeek web backend of a canonical turn: takes an account lease from the pool, logs in when needed,
 * runs the completion (continue rounds included), re-logs in once on an invalid token, fails over to another
 * account before the first visible byte, does the single empty-output retry, and always releases the lease.
 */
import type { TurnLimits } from "../../config/runtime-settings.ts";
import { DependencyUnavailableError } from "../../core/cluster/ports.ts";
import { TurnError } from "../../core/turn/turn-error.ts";
import { coolsAccount, exhaustedAccountsError, failureToTurnError, type UpstreamFailure } from "../../core/turn/upstream-failure.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AccountPool, Lease } from "../../pool/account-pool.ts";
import { AccountsCoolingError, AccountUnavailableError, LoginError, NoAccountsError, PoolBusyError, TARGET_UNAVAILABLE } from "../../pool/pool-errors.ts";
import { DS_PATHS, type DeepSeekClient } from "./client.ts";
import { hadNoVisibleOutput, runCompletion, runEmptyOutputRetry, type CompletionPayload, type CompletionRun } from "./completion-runner.ts";
import { TRANSCRIPT_CONTENT_TYPE, TRANSCRIPT_FILE_NAME, type RawStreamTap, type TurnAttachment, type UpstreamOutcome } from "../../core/upstream/provider.ts";
import type { UploadedFile } from "./upload-file.ts";
import { DeepSeekError } from "./errors.ts";
import type { DeepSeekEvent } from "./events.ts";
import { classifyDeepSeekError, classifyLoginFailure } from "./failure-map.ts";
import { withTurnDeadline } from "../../core/upstream/turn-deadline.ts";
import type { ReusedSession, SessionKeeper } from "./session-keeper.ts";

export interface DeepSeekBackendDeps {
  /** The web client for an account (its proxy); no account = direct-token mode, no proxy. */
  client: (account?: string) => DeepSeekClient;
  /** Whether the account reaches DeepSeek through its own proxy. */
  viaProxy?: (account: string) => boolean;
  pool: AccountPool;
  logger: Logger;
  /** Turn limit, account attempts (read per turn: live settings). */
  limits?: () => Pick<TurnLimits, "turnTimeoutMs" | "maxAccountAttempts">;
  /** Where sessions go after a turn: reused (pacing.session_reuse) or deleted later (auto_delete). */
  sessions?: SessionKeeper;
  /** Observers (metrics, admin "recent errors"). */
  onUpstreamError?: (kind: string, account: string | undefined, message: string) => void;
}

/** One DeepSeek turn: the neutral `UpstreamTurn` with the model's DeepSeek flags resolved (see provider.ts). */
export interface DeepSeekTurn {
  prompt: string;
  /** Conversation transcript to upload as DS2API_HISTORY.txt and attach (the prompt then only points at it). */
  historyFile?: string;
  modelType: string;
  thinking: boolean;
  search: boolean;
  passthrough: Record<string, unknown>;
  callerId: string;
  directToken?: string;
  pinnedAccount?: string;
  /** Images / files to upload with the serving account's token (after the transcript, before `refFileIds`). */
  attachments?: TurnAttachment[];
  /** Files already on the pinned account. */
  refFileIds?: string[];
  /** The caller has its answer without text (a tool call in the reasoning): skip the empty-output retry. */
  answered?: () => boolean;
  /** Dev capture of the raw upstream responses. */
  tap?: RawStreamTap;
}

const VISIBLE = new Set(["reasoning", "text"]);

/** What a turn attaches: the transcript, the attachments to upload, and files already uploaded. */
interface TurnFiles {
  historyFile?: string;
  attachments: TurnAttachment[];
  refFileIds: string[];
}

/** One file to upload, and how (the account, or the caller's own token). */
export interface BackendUpload {
  data: Uint8Array;
  filename: string;
  contentType: string;
  modelType: string;
  directToken?: string;
  pinnedAccount?: string;
}

/** Upload failures that are not the pool's: one message, as the Go ds2api answers (§7.2). */
const UPLOAD_FAILED = "Failed to upload file.";

/** A completion run and the token it used (for auto_delete). */
interface SessionUse {
  token: string;
  run: CompletionRun;
}

/** One account attempt's session: the one taken off the reuse shelf (if any), and the run that ended the turn. */
interface SessionPlan {
  reused?: ReusedSession;
  final?: CompletionRun;
}

/** Whose turn it is, for session reuse (a session is only ever reused by the same caller on the same model type). */
interface TurnOwner {
  caller: string;
}

/** Maps pool failures to the status a client should see. */
function poolError(e: unknown): TurnError | undefined {
  if (e instanceof PoolBusyError) return new TurnError(429, e.message, "rate_limit_exceeded", e.retryAfterSeconds);
  if (e instanceof AccountsCoolingError) {
    return e.rateLimited ? new TurnError(429, e.message, "rate_limit_exceeded", e.retryAfterSeconds, "account") : new TurnError(503, e.message, "accounts_unavailable", e.retryAfterSeconds, "account");
  }
  if (e instanceof NoAccountsError) return new TurnError(503, e.message, "no_accounts");
  // (A pinned account's AccountUnavailableError never gets here: the callers answer it with pinnedUnavailable.)
  if (e instanceof AccountUnavailableError) return new TurnError(503, e.message, "account_unavailable", 30);
  return undefined;
}

/** The completion / continue stream itself, or the account set-up around it (session, PoW, upload). */
function stageOf(e: DeepSeekError): "completion" | "setup" {
  return e.path === DS_PATHS.completion || e.path === DS_PATHS.continue ? "completion" : "setup";
}


export class DeepSeekBackend {
  constructor(private readonly deps: DeepSeekBackendDeps) {}

  /** One turn under the total turn limit: when it runs out the turn ends with 504 and its lease is freed. */
  async *run(turn: DeepSeekTurn, signal: AbortSignal): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const limits = this.deps.limits?.() ?? { turnTimeoutMs: 900_000, maxAccountAttempts: 3 };
    return yield* withTurnDeadline(limits.turnTimeoutMs, signal, (k, a, m) => this.report(k, a, m), (limited) => this.runTurn(turn, limited, limits.maxAccountAttempts));
  }

  private async *runTurn(turn: DeepSeekTurn, signal: AbortSignal, maxAttempts: number): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const payload: CompletionPayload = {
      prompt: turn.prompt,
      modelType: turn.modelType,
      thinkingEnabled: turn.thinking,
      searchEnabled: turn.search,
      extra: turn.passthrough,
    };
    const files: TurnFiles = { historyFile: turn.historyFile, attachments: turn.attachments ?? [], refFileIds: turn.refFileIds ?? [] };
    if (turn.directToken) return yield* this.attempt(payload, files, turn.directToken, undefined, signal, turn.answered, turn.tap);
    const owner: TurnOwner = { caller: turn.callerId };

    const tried = new Set<string>();
    const failures: UpstreamFailure[] = [];
    for (;;) {
      // At most N accounts per request; after a failed account, never wait for another one's cool-down.
      if (failures.length >= maxAttempts) throw exhaustedAccountsError(failures);
      let lease: Lease;
      try {
        lease = await this.deps.pool.acquire({ signal, pinned: turn.pinnedAccount, exclude: tried, noCooldownWait: failures.length > 0 });
      } catch (e) {
        if (signal.aborted) throw e;
        // Every usable account was tried: report what went wrong with them rather than "unavailable".
        if (failures.length > 0 && (e instanceof AccountUnavailableError || e instanceof AccountsCoolingError)) throw exhaustedAccountsError(failures);
        if (e instanceof AccountUnavailableError && e.pinned) throw this.pinnedUnavailable(turn.pinnedAccount, e.detail ?? e.message);
        throw poolError(e) ?? e;
      }
      tried.add(lease.identifier);
      try {
        let token: string;
        try {
          token = await lease.token();
        } catch (e) {
          // Aborted, or Redis unreachable (the cluster's tokens): not the account's fault, it is not marked.
          if (signal.aborted || e instanceof DependencyUnavailableError) throw e;
          const f = classifyLoginFailure(e, { viaProxy: this.viaProxy(lease.identifier) });
          // Observers see "login" for the account's own login trouble, else the DeepSeek kind (e.g. "waf" for /readyz).
          this.report(!coolsAccount(f) && e instanceof LoginError && e.upstream instanceof DeepSeekError ? e.upstream.kind : "login", lease.identifier, f.message);
          if (!coolsAccount(f)) throw failureToTurnError(f);
          lease.fail(f.penalty ?? "login", f.message);
          failures.push(f);
          if (turn.pinnedAccount) throw this.pinnedUnavailable(lease.identifier, f.message);
          continue;
        }
        const outcome = yield* this.attempt(payload, files, token, lease, signal, turn.answered, turn.tap, owner);
        return { ...outcome, account: lease.identifier };
      } catch (e) {
        if (e instanceof FailoverSignal) {
          failures.push(e.failure);
          if (turn.pinnedAccount) throw this.pinnedUnavailable(lease.identifier, e.failure.message);
          continue;
        }
        throw e;
      } finally {
        lease.release();
      }
    }
  }

  /**
   * A pinned account that cannot be used for a reason of its own (unknown, disabled, resting, login or auth
   * refused, rate limited …): the client gets the one generic answer, whatever the reason, so a client key
   * cannot tell which accounts exist; the operator gets the reason in the log.
   */
  private pinnedUnavailable(account: string | undefined, detail: string): TurnError {
    this.deps.logger.warn("pinned account not usable", { account, detail });
    return new TurnError(503, TARGET_UNAVAILABLE, "account_unavailable");
  }

  private viaProxy(account: string | undefined): boolean {
    return account !== undefined && (this.deps.viaProxy?.(account) ?? false);
  }

  /** One account: completion with one re-login on an invalid token and one empty-output retry. */
  private async *attempt(
    basePayload: CompletionPayload,
    files: TurnFiles,
    token: string,
    lease: Lease | undefined,
    signal: AbortSignal,
    answered?: () => boolean,
    tap?: RawStreamTap,
    owner?: TurnOwner,
  ): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const runs: SessionUse[] = [];
    const keeper = this.deps.sessions;
    const reuse = lease && owner && keeper?.reuseEnabled() ? { account: lease.identifier, caller: owner.caller, modelType: basePayload.modelType } : undefined;
    const plan: SessionPlan = { reused: reuse ? keeper!.checkout(reuse.account, reuse.caller, reuse.modelType) : undefined };
    const taken = plan.reused?.sessionId;
    const turns = (plan.reused?.turns ?? 0) + 1;
    let keep: ReusedSession | undefined;
    try {
      const outcome = yield* this.attemptOnce(basePayload, files, token, lease, signal, runs, plan, answered, tap);
      const st = plan.final?.state;
      if (reuse && st?.sessionId && st.responseMessageId && st.finished && !st.contentFiltered && st.error === undefined && !outcome.empty && !outcome.truncated) {
        keep = { sessionId: st.sessionId, parentMessageId: st.responseMessageId, turns };
      }
      return outcome;
    } finally {
      this.finishSessions(lease?.identifier, runs, keep, reuse, taken);
    }
  }

  /**
   * After an attempt: the session of a clean turn goes back on the reuse shelf; every other session it used is
   * retired (auto_delete: queued and deleted later in batches; with a caller's own token, at once).
   */
  private finishSessions(account: string | undefined, runs: SessionUse[], keep: ReusedSession | undefined, reuse: { caller: string; modelType: string } | undefined, taken?: string): void {
    const keeper = this.deps.sessions;
    if (!keeper) return;
    // The session taken off the shelf is retired even when the attempt failed before it was used (e.g. an upload).
    const used = [...(taken ? [taken] : []), ...runs.flatMap(({ run }) => (run.state.sessionId ? [run.state.sessionId] : []))];
    const ids = used.filter((id) => id !== keep?.sessionId);
    if (account !== undefined && keep && reuse) keeper.checkin(account, reuse.caller, reuse.modelType, keep);
    keeper.retire(account, ids, account === undefined ? runs.at(-1)?.token : undefined);
  }

  private async *attemptOnce(
    basePayload: CompletionPayload,
    files: TurnFiles,
    token: string,
    lease: Lease | undefined,
    signal: AbortSignal,
    runs: SessionUse[],
    plan: SessionPlan,
    answered?: () => boolean,
    tap?: RawStreamTap,
  ): AsyncGenerator<DeepSeekEvent, UpstreamOutcome> {
    const client = this.deps.client(lease?.identifier);
    let visible = false;
    let relogged = false;
    let run: CompletionRun | undefined;
    let payload = basePayload;
    for (;;) {
      try {
        if (payload === basePayload && (files.historyFile || files.attachments.length || files.refFileIds.length)) {
          // Uploads belong to the account that makes them, so they go up with this account's token. A failed
          // upload ends the attempt before the completion: nothing half-uploaded is ever referenced.
          const ids: string[] = [];
          if (files.historyFile) {
            const file = await client.uploadFile(token, { data: files.historyFile, filename: TRANSCRIPT_FILE_NAME, contentType: TRANSCRIPT_CONTENT_TYPE, modelType: payload.modelType }, { signal });
            ids.push(file.id);
          }
          for (const a of files.attachments) {
            const file = await client.uploadFile(token, { data: a.data, filename: a.filename, contentType: a.mediaType, modelType: payload.modelType }, { signal });
            ids.push(file.id);
          }
          payload = { ...basePayload, refFileIds: [...ids, ...files.refFileIds] };
        }
        // A reused session continues from its last reply (upstream-protocol §2.12); otherwise a new session is opened.
        const reused = plan.reused;
        const sessionPayload = reused ? { ...payload, parentMessageId: reused.parentMessageId } : payload;
        run = runCompletion({ client, token, payload: sessionPayload, sessionId: reused?.sessionId, signal, tap, account: lease?.identifier });
        runs.push({ token, run });
        for await (const ev of run) {
          if (VISIBLE.has(ev.type)) visible = true;
          yield ev;
        }
        break;
      } catch (e) {
        if (signal.aborted || !(e instanceof DeepSeekError)) throw e;
        // A reused session the upstream no longer takes (deleted, parent unknown …) is no fault of the account:
        // it is retired with the others and the turn starts over once in a new session.
        if (plan.reused && !visible && e.kind !== "auth") {
          this.deps.logger.debug("reused chat session refused; opening a new one", { account: lease?.identifier, error: e.message });
          plan.reused = undefined;
          continue;
        }
        this.report(e.kind, lease?.identifier, e.message);
        if (e.kind === "auth" && lease && !visible && !relogged) {
          relogged = true;
          payload = basePayload; // a re-login may change nothing about the file, but upload it again with the new token
          try {
            token = await lease.relogin(token);
          } catch (le) {
            if (signal.aborted || le instanceof DependencyUnavailableError) throw le;
            const f = classifyLoginFailure(le, { viaProxy: this.viaProxy(lease.identifier) });
            if (!coolsAccount(f)) throw failureToTurnError(f);
            lease.fail(f.penalty ?? "login", f.message);
            throw new FailoverSignal(f);
          }
          continue;
        }
        const f = classifyDeepSeekError(e, { viaProxy: this.viaProxy(lease?.identifier), stage: stageOf(e) });
        if (coolsAccount(f) && lease) {
          lease.fail(f.penalty ?? "upstream", f.message);
          // Before anything was shown the request moves on to another account; after, it ends here.
          if (!visible) throw new FailoverSignal(f);
        }
        // Direct-token mode: the token is the caller's own credential, so its rejection is a 401.
        if (!lease && f.penalty === "auth") throw new TurnError(401, f.message, f.code, undefined, "account");
        throw failureToTurnError(f);
      }
    }
    if (hadNoVisibleOutput(run) && !answered?.()) {
      const retry = runEmptyOutputRetry(run, { client, token, payload, signal, tap, account: lease?.identifier });
      try {
        for await (const ev of retry) yield ev;
      } catch (e) {
        if (signal.aborted || !(e instanceof DeepSeekError)) throw e;
        this.report(e.kind, lease?.identifier, e.message);
        const f = classifyDeepSeekError(e, { viaProxy: this.viaProxy(lease?.identifier), stage: stageOf(e) });
        if (coolsAccount(f)) lease?.fail(f.penalty ?? "upstream", f.message);
        throw failureToTurnError(f);
      }
      if (hadNoVisibleOutput(retry)) {
        // Request-attributable: the content comes back empty; the account is not benched for it.
        this.report("empty_output", lease?.identifier, "upstream returned no visible output twice");
        return { contentFiltered: false, truncated: false, empty: true, reasoningOnly: retry.state.reasoning.trim().length > 0 };
      }
      run = retry;
    }
    lease?.succeed();
    plan.final = run;
    const st = run.state;
    return {
      contentFiltered: st.contentFiltered,
      truncated: !st.finished && (st.lastStatus === "INCOMPLETE" || st.lastStatus === "AUTO_CONTINUE"),
      empty: false,
      reasoningOnly: false,
    };
  }

  /**
   * `POST /v1/files`: one upload through a pooled account (or the caller's token), one re-login on an invalid
   * token, polling until the file is parsed. Returns the file and the account that holds it.
   */
  async upload(req: BackendUpload, signal?: AbortSignal): Promise<{ file: UploadedFile; account?: string }> {
    const input = { data: req.data, filename: req.filename, contentType: req.contentType, modelType: req.modelType };
    if (req.directToken) {
      try {
        return { file: await this.deps.client().uploadFile(req.directToken, input, { signal }) };
      } catch (e) {
        throw this.uploadError(e, undefined, signal);
      }
    }
    const lease = await this.leaseFor(req.pinnedAccount, signal);
    try {
      let token = await this.leaseToken(lease, signal);
      const client = this.deps.client(lease.identifier);
      try {
        return { file: await client.uploadFile(token, input, { signal }), account: lease.identifier };
      } catch (e) {
        if (!(e instanceof DeepSeekError) || e.kind !== "auth" || signal?.aborted) throw e;
        token = await lease.relogin(token);
        return { file: await client.uploadFile(token, input, { signal }), account: lease.identifier };
      }
    } catch (e) {
      throw this.uploadError(e, lease.identifier, signal);
    } finally {
      lease.release();
    }
  }

  /** `GET /v1/files/{id}`: asks the account that holds the file (undefined = not found there). */
  async fetchFile(id: string, where: { account?: string; directToken?: string }, signal?: AbortSignal): Promise<UploadedFile | undefined> {
    if (where.directToken) {
      try {
        return (await this.deps.client().fetchFiles(where.directToken, [id], signal))[0];
      } catch (e) {
        throw this.uploadError(e, undefined, signal, "Failed to fetch file.");
      }
    }
    const lease = await this.leaseFor(where.account, signal);
    try {
      const token = await this.leaseToken(lease, signal);
      return (await this.deps.client(lease.identifier).fetchFiles(token, [id], signal))[0];
    } catch (e) {
      throw this.uploadError(e, lease.identifier, signal, "Failed to fetch file.");
    } finally {
      lease.release();
    }
  }

  private async leaseFor(pinned: string | undefined, signal?: AbortSignal): Promise<Lease> {
    try {
      return await this.deps.pool.acquire({ signal, pinned });
    } catch (e) {
      if (signal?.aborted) throw e;
      if (e instanceof AccountUnavailableError && e.pinned) throw this.pinnedUnavailable(pinned, e.detail ?? e.message);
      throw poolError(e) ?? e;
    }
  }

  private async leaseToken(lease: Lease, signal?: AbortSignal): Promise<string> {
    try {
      return await lease.token();
    } catch (e) {
      if (signal?.aborted || e instanceof DependencyUnavailableError) throw e;
      const f = classifyLoginFailure(e, { viaProxy: this.viaProxy(lease.identifier) });
      this.report("login", lease.identifier, f.message);
      if (coolsAccount(f)) lease.fail(f.penalty ?? "login", f.message);
      throw failureToTurnError(f);
    }
  }

  /** Upstream trouble during an upload / lookup → 500 with one message (the detail goes to the log). */
  private uploadError(e: unknown, account: string | undefined, signal: AbortSignal | undefined, message = UPLOAD_FAILED): unknown {
    if (signal?.aborted || e instanceof TurnError) return e;
    if (e instanceof DeepSeekError) this.report(e.kind, account, e.message);
    else this.deps.logger.warn("file upload failed", { account, error: String(e) });
    return new TurnError(500, message, "upload_failed");
  }

  private report(kind: string, account: string | undefined, message: string): void {
    this.deps.logger.warn("upstream error", { kind, account, message });
    this.deps.onUpstreamError?.(kind, account, message);
  }
}

/** Internal: this account failed on its own before anything was shown; try another. */
class FailoverSignal extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.message);
  }
}
