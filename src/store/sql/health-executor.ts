/**
 * A shared database's executor that tells the dependency health how it goes: while the database is known to be
 * down, calls are refused at once (`DependencyUnavailableError`, a 503 in every surface) instead of each waiting
 * for a connection timeout; a connection failure marks it down; the first call that works (or the health's probe)
 * marks it up again.
 */
import type { DependencyHealth } from "../../core/cluster/ports.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";

const D = "database" as const;

export function withHealth(x: SqlExecutor, health: DependencyHealth): SqlExecutor {
  const through = async <T>(call: () => Promise<T>): Promise<T> => {
    health.assertUp(D);
    try {
      const out = await call();
      health.ok(D);
      return out;
    } catch (e) {
      health.report(D, e);
      throw e;
    }
  };
  const scope = (inner: SqlExecutor): SqlExecutor => ({
    dialect: inner.dialect,
    all: <T>(sql: string, p?: readonly SqlValue[]) => through(() => inner.all<T>(sql, p)),
    get: <T>(sql: string, p?: readonly SqlValue[]) => through(() => inner.get<T>(sql, p)),
    run: (sql: string, p?: readonly SqlValue[]) => through(() => inner.run(sql, p)),
    exec: (sql: string) => through(() => inner.exec(sql)),
    hasTable: (name: string) => through(() => inner.hasTable(name)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => through(() => inner.transaction((tx) => fn(scope(tx)))),
    close: () => inner.close(),
  });
  return scope(x);
}
