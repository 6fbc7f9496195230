/**
 * What happens to a DeepSeek chat session after its turn (issue 13, "traffic that looks less like a machine"):
 *
 * - Reuse (`pacing.session_reuse`, off by default): a session that ended a turn cleanly is shelved for the same
 *   account, caller and model type; the next such turn takes it off the shelf and continues it with
 *   `parent_message_id` = the last response id (upstream-protocol §2.12). A shelved session is used by one turn at
 *   a time (taken off the shelf while in use), never across accounts or callers, for at most `max_turns` turns
 *   and never after `idle_seconds` without use; then it is retired.
 * - Deletion (`auto_delete`): a retired session is queued per account and deleted after `delay_seconds`, or at
 *   once when `batch_size` sessions of one account are waiting, one call after another. Failed deletions are
 *   queued again (up to 3 tries). On shutdown every shelved session is retired, the queue is flushed (bounded),
 *   and what could not be deleted is written to the settings table and queued again at the next start, so no
 *   session is forgotten. Delay 0 (or a caller's own token) deletes right after the turn, as the Go ds2api does.
 */
import type { EffectiveDeletion, EffectivePacing } from "../../config/human-pacing.ts";
import type { Logger } from "../../observability/logger.ts";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import type { AccountRecord } from "../../store/accounts-repo.ts";
import type { StoreApi } from "../../store/store-api.ts";
import type { DeepSeekClient } from "./client.ts";

export type AutoDeleteMode = "none" | "single" | "all";

/** A session taken off the shelf for one turn. */
export interface ReusedSession {
  sessionId: string;
  parentMessageId: number;
  /** Turns the session has carried so far. */
  turns: number;
}

interface Shelved extends ReusedSession {
  key: string;
  timer: ReturnType<typeof setTimeout>;
}

interface Pending {
  ids: Map<string, number>;
  /** A `delete_all` is owed (mode all). */
  all: boolean;
  /** Failed `delete_all` calls so far. */
  allTries?: number;
  /** Sessions retired since the last `delete_all` (they count toward the batch size). */
  allQueued?: number;
  timer?: ReturnType<typeof setTimeout>;
  flushing?: Promise<void>;
}

/** Stored across restarts: account → session ids still to delete (never a token). */
type PendingRecord = Record<string, { ids: string[]; all?: boolean }>;

/** Both lists of owed deletions, per account: the union of the session ids, `all` when either says so. */
function mergePending(a: PendingRecord, b: PendingRecord): PendingRecord {
  const out: PendingRecord = { ...a };
  for (const [account, entry] of Object.entries(b)) {
    const cur = out[account];
    out[account] = cur ? { ids: [...new Set([...(cur.ids ?? []), ...(entry.ids ?? [])])], ...(cur.all || entry.all ? { all: true } : {}) } : entry;
  }
  return out;
}

const MAX_DELETE_TRIES = 3;
/** Longest a shutdown waits for the last deletions before it writes the rest down. */
const CLOSE_FLUSH_MS = 5000;
const DELETE_TIMEOUT_MS = 10_000;

export interface SessionKeeperDeps {
  client: (account?: string) => DeepSeekClient;
  /** The account's current token (logging in when needed). */
  token: (account: string) => Promise<string>;
  mode: () => AutoDeleteMode;
  deletion: () => EffectiveDeletion;
  pacing: () => Pick<EffectivePacing, "sessionReuse" | "sessionReuseMaxTurns" | "sessionReuseIdleMs">;
  logger: Logger;
  /** The account as the pool sees it (in memory): removed accounts and refused devices are skipped without a store read. */
  account: (identifier: string) => Pick<AccountRecord, "status"> | undefined;
  /** Where the deletions a stopped server still owed are written down (read back by `restore`). */
  store: StoreApi;
}

export class SessionKeeper {
  private readonly shelf = new Map<string, Shelved>();
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(private readonly deps: SessionKeeperDeps) {}

  private static shelfKey(account: string, caller: string, modelType: string): string {
    return `${account}\n${caller}\n${modelType}`;
  }

  /** Whether turns may reuse sessions now. */
  reuseEnabled(): boolean {
    return !this.closed && this.deps.pacing().sessionReuse;
  }

  /** The shelved session for this account, caller and model, taken off the shelf (undefined: open a new one). */
  checkout(account: string, caller: string, modelType: string): ReusedSession | undefined {
    const key = SessionKeeper.shelfKey(account, caller, modelType);
    const s = this.shelf.get(key);
    if (!s) return undefined;
    this.shelf.delete(key);
    clearTimeout(s.timer);
    if (!this.reuseEnabled()) {
      this.retire(account, [s.sessionId]);
      return undefined;
    }
    return { sessionId: s.sessionId, parentMessageId: s.parentMessageId, turns: s.turns };
  }

  /**
   * After a clean turn: shelve the session for the next turn (or retire it when it has carried enough turns
   * or reuse is off). A session already on the shelf for the same key (a concurrent turn) is retired.
   */
  checkin(account: string, caller: string, modelType: string, session: ReusedSession): void {
    const p = this.deps.pacing();
    if (this.closed || !p.sessionReuse || session.turns >= p.sessionReuseMaxTurns) {
      this.retire(account, [session.sessionId]);
      return;
    }
    const key = SessionKeeper.shelfKey(account, caller, modelType);
    const old = this.shelf.get(key);
    if (old) {
      clearTimeout(old.timer);
      this.retire(account, [old.sessionId]);
    }
    const timer = setTimeout(() => {
      if (this.shelf.get(key)?.sessionId !== session.sessionId) return;
      this.shelf.delete(key);
      this.retire(account, [session.sessionId]);
    }, p.sessionReuseIdleMs);
    (timer as { unref?: () => void }).unref?.();
    this.shelf.set(key, { ...session, key, timer });
  }

  /** The account's sessions were all deleted elsewhere (admin delete-all): forget its shelf and queue. */
  forget(account: string): void {
    for (const [key, s] of this.shelf) {
      if (!key.startsWith(`${account}\n`)) continue;
      clearTimeout(s.timer);
      this.shelf.delete(key);
    }
    const p = this.pending.get(account);
    if (p && !p.flushing) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(account);
    }
  }

  /**
   * Sessions a turn is done with. Pooled accounts: queued (auto_delete delay / batch); a caller's own token
   * (no account): deleted at once with that token, which is never kept.
   */
  retire(account: string | undefined, sessionIds: string[], directToken?: string): void {
    const mode = this.deps.mode();
    const ids = [...new Set(sessionIds.filter(Boolean))];
    if (mode === "none" || ids.length === 0) return;
    if (account === undefined) {
      if (directToken) this.deleteNow(directToken, mode, ids);
      return;
    }
    const p = this.pending.get(account) ?? { ids: new Map<string, number>(), all: false };
    this.pending.set(account, p);
    if (mode === "all") {
      p.all = true;
      p.allQueued = (p.allQueued ?? 0) + ids.length;
    } else for (const id of ids) if (!p.ids.has(id)) p.ids.set(id, 0);
    const { delayMs, batchSize } = this.deps.deletion();
    if (this.closed) return;
    if (delayMs === 0 || p.ids.size + (p.allQueued ?? 0) >= batchSize) {
      void this.flush(account);
      return;
    }
    if (!p.timer && !p.flushing) this.arm(account, p, delayMs);
  }

  private arm(account: string, p: Pending, delayMs: number): void {
    p.timer = setTimeout(() => {
      p.timer = undefined;
      void this.flush(account);
    }, delayMs);
    (p.timer as { unref?: () => void }).unref?.();
  }

  private deleteNow(token: string, mode: AutoDeleteMode, ids: string[]): void {
    const client = this.deps.client();
    const signal = AbortSignal.timeout(DELETE_TIMEOUT_MS);
    const work = mode === "all" ? client.deleteAllSessions(token, signal) : Promise.all(ids.map((id) => client.deleteSession(token, id, signal)));
    work.catch((e) => this.deps.logger.warn("session clean-up failed", { mode, error: (e as Error).message }));
  }

  /** Delete everything queued for one account now (one call after another); failures are queued again. */
  flush(account: string, signal?: AbortSignal): Promise<void> {
    const p = this.pending.get(account);
    if (!p) return Promise.resolve();
    if (p.flushing) return p.flushing;
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    const run = this.flushBatch(account, p, signal).finally(() => {
      p.flushing = undefined;
      if (p.ids.size === 0 && !p.all) {
        if (this.pending.get(account) === p) this.pending.delete(account);
      } else if (!this.closed) this.arm(account, p, Math.max(1000, this.deps.deletion().delayMs));
    });
    p.flushing = run;
    return run;
  }

  private async flushBatch(account: string, p: Pending, outer?: AbortSignal): Promise<void> {
    const all = p.all;
    const batch = [...p.ids.entries()];
    p.all = false;
    p.allQueued = 0;
    for (const [id] of batch) p.ids.delete(id);
    const requeue = (id: string, tries: number, why: string) => {
      if (tries + 1 >= MAX_DELETE_TRIES) this.deps.logger.warn("session deletion given up", { account, session: id, error: why });
      else p.ids.set(id, tries + 1);
    };
    const requeueAll = (why: string) => {
      p.allTries = (p.allTries ?? 0) + 1;
      if (p.allTries >= MAX_DELETE_TRIES) this.deps.logger.warn("session deletion given up", { account, mode: "all", error: why });
      else p.all = true;
    };
    // An account removed since: its sessions went with it as far as this server is concerned.
    const record = this.deps.account(account);
    if (!record) return;
    // DeepSeek refuses this account's device: a login now would only be refused again. Keep the queue untouched
    // (no try counted) until the operator's fix; the next turn on the account re-arms the flush.
    if (record.status === "risk_device") {
      if (all) p.all = true;
      for (const [id, tries] of batch) p.ids.set(id, tries);
      return;
    }
    let token: string;
    try {
      token = await this.deps.token(account);
    } catch (e) {
      const why = (e as Error).message;
      this.deps.logger.warn("session clean-up failed", { account, error: why });
      if (all) requeueAll(why);
      for (const [id, tries] of batch) requeue(id, tries, why);
      return;
    }
    const client = this.deps.client(account);
    const signal = () => (outer ? AbortSignal.any([outer, AbortSignal.timeout(DELETE_TIMEOUT_MS)]) : AbortSignal.timeout(DELETE_TIMEOUT_MS));
    if (all) {
      try {
        await client.deleteAllSessions(token, signal());
        // Everything of the account is gone, shelved sessions included.
        p.allTries = 0;
        for (const [key, s] of this.shelf) {
          if (!key.startsWith(`${account}\n`)) continue;
          clearTimeout(s.timer);
          this.shelf.delete(key);
        }
        return;
      } catch (e) {
        this.deps.logger.warn("session clean-up failed", { account, mode: "all", error: (e as Error).message });
        requeueAll((e as Error).message);
      }
    }
    for (const [id, tries] of batch) {
      if (outer?.aborted) {
        p.ids.set(id, tries);
        continue;
      }
      try {
        await client.deleteSession(token, id, signal());
      } catch (e) {
        requeue(id, tries, (e as Error).message);
      }
    }
  }

  /** Shutdown: retire the shelf, flush every account (bounded), and write down what is left for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [key, s] of [...this.shelf]) {
      clearTimeout(s.timer);
      this.shelf.delete(key);
      this.retire(key.slice(0, key.indexOf("\n")), [s.sessionId]);
    }
    const signal = AbortSignal.timeout(CLOSE_FLUSH_MS);
    await Promise.all([...this.pending.keys()].map((a) => this.flush(a, signal).catch(() => {})));
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    await this.persist();
  }

  private async persist(): Promise<void> {
    const record: PendingRecord = {};
    for (const [account, p] of this.pending) {
      if (p.ids.size === 0 && !p.all) continue;
      record[account] = { ids: [...p.ids.keys()], ...(p.all ? { all: true } : {}) };
    }
    if (!Object.keys(record).length) return;
    try {
      // Several instances share one store: each adds what it owes to what the others wrote down (the next instance
      // to start takes the whole list), instead of overwriting it.
      await this.deps.store.transaction(async (tx) => {
        const stored = (await tx.settings.get<PendingRecord>(SETTING_KEYS.pendingSessionDeletes)) ?? {};
        await tx.settings.set(SETTING_KEYS.pendingSessionDeletes, mergePending(stored, record));
      });
    } catch (e) {
      this.deps.logger.warn("could not save the pending session deletions", { error: (e as Error).message });
    }
  }

  /**
   * At start, once the accounts are loaded: sessions a previous run could not delete before it stopped are queued
   * again (deleted after the usual delay).
   */
  async restore(): Promise<void> {
    // Taken and cleared together, so two instances starting at once do not both queue the same list.
    const record = await this.deps.store.transaction(async (tx) => {
      const stored = await tx.settings.get<PendingRecord>(SETTING_KEYS.pendingSessionDeletes);
      if (stored) await tx.settings.delete(SETTING_KEYS.pendingSessionDeletes);
      return stored;
    });
    if (!record) return;
    const { delayMs } = this.deps.deletion();
    for (const [account, entry] of Object.entries(record)) {
      if (this.closed || !this.deps.account(account)) continue;
      const p: Pending = { ids: new Map((entry.ids ?? []).map((id) => [id, 0])), all: entry.all === true };
      if (p.ids.size === 0 && !p.all) continue;
      this.pending.set(account, p);
      this.arm(account, p, Math.max(1000, delayMs));
    }
  }
}
