/**
 * `SqlExecutor` on bun:sqlite: every call runs synchronously and returns a settled promise (a microtask, no I/O).
 * Transactions: BEGIN IMMEDIATE on the one connection; an async mutex makes root calls and other transactions wait
 * while one is open, so nothing foreign joins it.
 */
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { SqlExecutor, SqlValue } from "./executor.ts";

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** bun:sqlite gives bigint only with safeIntegers; numbers otherwise. Kept as a guard for `{ safeIntegers: true }` files. */
function plain<T>(row: unknown): T {
  if (row && typeof row === "object") {
    for (const [k, v] of Object.entries(row)) if (typeof v === "bigint") (row as Record<string, unknown>)[k] = Number(v);
  }
  return row as T;
}

class SqliteScope implements SqlExecutor {
  readonly dialect = "sqlite" as const;

  constructor(
    readonly db: Database,
    /** Resolves when this scope may run (root: no transaction open; inside a transaction: at once). */
    private readonly gate: () => Promise<void> | undefined,
    private readonly begin: <T>(fn: (tx: SqlExecutor) => Promise<T>) => Promise<T>,
  ) {}

  private call<T>(fn: () => T): Promise<T> {
    const waiting = this.gate();
    // Look again once it ends: a transaction queued before this call may have opened meanwhile, and running now
    // would put this statement inside it (rolled back with it).
    return waiting ? waiting.then(() => this.call(fn)) : settle(fn);
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.call(() => (this.db.query(sql).all(...(params as SQLQueryBindings[])) as unknown[]).map((r) => plain<T>(r)));
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.call(() => {
      const row = this.db.query(sql).get(...(params as SQLQueryBindings[]));
      return row === null ? undefined : plain<T>(row);
    });
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.call(() => ({ changes: this.db.query(sql).run(...(params as SQLQueryBindings[])).changes }));
  }

  exec(sql: string): Promise<void> {
    return this.call(() => {
      this.db.exec(sql);
    });
  }

  hasTable(name: string): Promise<boolean> {
    return this.call(() => this.db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.begin(fn);
  }

  close(): Promise<void> {
    return settle(() => this.db.close());
  }
}

/** The root executor over an open database. */
export function sqliteExecutor(db: Database): SqlExecutor {
  /** Settled when the open transaction ends; undefined when none is open. */
  let open: Promise<void> | undefined;
  let inside: SqliteScope;
  const begin = async <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
    while (open) await open;
    let done!: () => void;
    open = new Promise<void>((r) => (done = r));
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        const out = await fn(inside);
        db.exec("COMMIT");
        return out;
      } catch (e) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw e;
      }
    } finally {
      open = undefined;
      done();
    }
  };
  // A nested transaction() inside a body runs in the same transaction (no savepoints needed by any caller).
  inside = new SqliteScope(db, () => undefined, (fn) => fn(inside));
  return new SqliteScope(db, () => open, begin);
}
