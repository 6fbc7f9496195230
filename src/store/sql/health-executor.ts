/**
 * A shared database's executor that tells the dependency health how it goes: while the database is known to be
 * down, calls are refused at once (`DependencyUnavailableError`, a 503 in every surface) instead of each waiting
 * for a connection timeout; a connection failure marks it down; the first call that works (or the health's probe)
 * marks it up again.
 */
import { throughHealth } from "../../core/cluster/dependency-health.ts";
import type { DependencyHealth } from "../../core/cluster/ports.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";

export function withHealth(x: SqlExecutor, health: DependencyHealth): SqlExecutor {
  const through = <T>(call: () => Promise<T>): Promise<T> => throughHealth(health, "database", call);
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
