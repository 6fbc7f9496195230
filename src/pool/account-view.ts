/**
 * The accounts as the hot path sees them: an in-memory snapshot of the accounts table, loaded at start and
 * re-read on change events, so a request never waits on the store. The pool selects from it, the token manager
 * reads tokens from it, the engine reads proxy bindings and device ids from it.
 *
 * - Loads (`reload`, `refresh`) run one after another and swap the snapshot in when the read is done: a request
 *   that arrives during a load is served from the previous snapshot (never an empty window).
 * - Local writes (`update`) change the snapshot at once and go to the store fire-and-forget (a failed write is
 *   reported, never thrown), so the next request sees the new status or token without a reload. A load that may
 *   have read the row before such a write landed re-applies the write's change on top of what it read.
 */
import type { AccountRecord } from "../store/accounts-repo.ts";
import type { StoreApi } from "../store/store-api.ts";

/** Told about a write-through that failed (the snapshot keeps the change; the next load reads what the store holds). */
export type AccountWriteReport = (what: string, identifier: string, error: unknown) => void;

type AccountsRepo = StoreApi["accounts"];

interface LocalChange {
  seq: number;
  id: string;
  patch: Partial<AccountRecord>;
  /** Set when its write settled (landed or failed). */
  settledSeq?: number;
}

/** Up to this many changed accounts are re-read one by one; more reload the whole list. */
const REFRESH_ONE_BY_ONE_MAX = 64;

export class AccountView {
  private accounts: readonly AccountRecord[] = [];
  private byId = new Map<string, AccountRecord>();
  /** The tail of the load queue (loads run one after another, in call order). */
  private loading: Promise<void> = Promise.resolve();
  private seq = 0;
  private changes: LocalChange[] = [];
  /** Start sequence numbers of the loads reading right now. */
  private readonly reading = new Set<number>();
  /** Fire-and-forget writes not settled yet. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly store: StoreApi,
    private readonly report: AccountWriteReport = () => {},
  ) {}

  /** Every account in insertion order (the array is replaced, never changed in place, by loads). */
  list(): readonly AccountRecord[] {
    return this.accounts;
  }

  get(identifier: string): AccountRecord | undefined {
    return this.byId.get(identifier);
  }

  get size(): number {
    return this.accounts.length;
  }

  /** Read the whole table; the old snapshot serves until the new one is in. */
  reload(): Promise<void> {
    return this.enqueue(async () => {
      const all = await this.store.accounts.list();
      return () => this.install(all);
    });
  }

  /**
   * Re-read only these accounts (an admin change named them): one indexed read each instead of the whole table.
   * A new account joins at the end (it has the highest sort order), a changed one keeps its place, a deleted one
   * leaves (its in-flight leases still release normally).
   */
  refresh(identifiers: Iterable<string>): Promise<void> {
    const ids = [...new Set(identifiers)];
    // Many at once (a bulk import): one read of the table beats a read per account.
    if (ids.length > REFRESH_ONE_BY_ONE_MAX) return this.reload();
    if (ids.length === 0) return this.loading;
    return this.enqueue(async () => {
      const fresh = await Promise.all(ids.map((id) => this.store.accounts.get(id)));
      return () => {
        let next = [...this.accounts];
        ids.forEach((id, i) => {
          const record = fresh[i];
          const at = next.findIndex((a) => a.identifier === id);
          if (!record) {
            if (at >= 0) next = next.filter((a) => a.identifier !== id);
          } else if (at >= 0) next[at] = record;
          else next.push(record);
        });
        this.install(next, new Set(ids));
      };
    });
  }

  /**
   * Change an account now and write the change through without waiting (hot paths: a failure, a login, a
   * grant). `patch` (may be empty: a counter the snapshot does not show) is visible to the very next read. The
   * promise (never rejected: a failure is reported) settles with the write; hot paths ignore it, admin paths await it.
   */
  update(identifier: string, patch: Partial<AccountRecord>, write: (accounts: AccountsRepo) => Promise<unknown>, what: string): Promise<void> {
    const change = this.remember(identifier, patch);
    const done = write(this.store.accounts)
      .then(
        () => {},
        (e) => this.report(what, identifier, e),
      )
      .finally(() => {
        this.settle(change);
        this.writes.delete(done);
      });
    this.writes.add(done);
    return done;
  }

  /** Resolves when every write started so far has settled (shutdown waits for it before the store closes; tests too). */
  async settled(): Promise<void> {
    while (this.writes.size) await Promise.all(this.writes);
  }

  /** As `update`, but waits for the write (admin paths, which report a failure to their caller). */
  async save(identifier: string, patch: Partial<AccountRecord>, write: (accounts: AccountsRepo) => Promise<unknown>): Promise<void> {
    const change = this.remember(identifier, patch);
    try {
      await write(this.store.accounts);
    } finally {
      this.settle(change);
    }
  }

  private remember(identifier: string, patch: Partial<AccountRecord>): LocalChange | undefined {
    if (Object.keys(patch).length === 0) return undefined;
    const change: LocalChange = { seq: ++this.seq, id: identifier, patch };
    this.changes.push(change);
    this.apply(identifier, patch);
    return change;
  }

  private settle(change: LocalChange | undefined): void {
    if (!change) return;
    change.settledSeq = ++this.seq;
    this.trim();
  }

  private apply(identifier: string, patch: Partial<AccountRecord>): void {
    const current = this.byId.get(identifier);
    if (!current) return;
    const next = { ...current, ...patch };
    this.byId.set(identifier, next);
    this.accounts = this.accounts.map((a) => (a.identifier === identifier ? next : a));
  }

  /** Run `load` after the loads before it; its result is installed synchronously when its read is done. */
  private enqueue(load: () => Promise<() => void>): Promise<void> {
    const run = this.loading.then(async () => {
      const startSeq = this.seq;
      this.reading.add(startSeq);
      try {
        const install = await load();
        install();
        // A local change whose write had not landed when the read began may be missing from what it read.
        for (const c of this.changes) if (c.settledSeq === undefined || c.settledSeq > startSeq) this.apply(c.id, c.patch);
      } finally {
        this.reading.delete(startSeq);
        this.trim();
      }
    });
    // The next load runs whether this one failed or not; the caller of this one sees its error.
    this.loading = run.catch(() => {});
    return run;
  }

  private install(records: readonly AccountRecord[], only?: ReadonlySet<string>): void {
    this.accounts = records;
    if (!only) this.byId = new Map(records.map((a) => [a.identifier, a]));
    else {
      for (const id of only) this.byId.delete(id);
      for (const a of records) if (only.has(a.identifier)) this.byId.set(a.identifier, a);
    }
  }

  /** Forget local changes that every running load already sees in the store. */
  private trim(): void {
    const oldestRead = this.reading.size ? Math.min(...this.reading) : Infinity;
    this.changes = this.changes.filter((c) => c.settledSeq === undefined || c.settledSeq > oldestRead);
  }
}
