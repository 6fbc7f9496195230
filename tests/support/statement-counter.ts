/**
 * Counts the SQL statements a piece of code runs on one bun:sqlite Database: every run/get/all/values/iterate of a
 * statement from `query`/`prepare`, and every `exec`/`run` on the database itself (BEGIN/COMMIT of `transaction`
 * included when bun issues them through those). The database is wrapped in place; `restore()` undoes it.
 */
import type { Database } from "bun:sqlite";

export interface StatementCounter {
  /** The statements run since the counter started (or since the last `reset`), in order. */
  readonly statements: string[];
  reset(): void;
  restore(): void;
}

const EXECUTING = new Set(["run", "get", "all", "values", "iterate"]);

export function countStatements(db: Database): StatementCounter {
  const statements: string[] = [];
  const record = (sql: string) => statements.push(sql.replace(/\s+/g, " ").trim());
  const target = db as unknown as Record<string, unknown>;
  const originals: Record<string, unknown> = {};
  for (const name of ["query", "prepare"]) {
    const original = target[name] as (sql: string, ...rest: unknown[]) => object;
    originals[name] = original;
    target[name] = function (this: Database, sql: string, ...rest: unknown[]) {
      const stmt = original.call(this, sql, ...rest);
      return new Proxy(stmt, {
        get(obj, prop, receiver) {
          const value = Reflect.get(obj, prop, receiver);
          if (typeof prop === "string" && EXECUTING.has(prop) && typeof value === "function") {
            return (...args: unknown[]) => {
              record(sql);
              return (value as (...a: unknown[]) => unknown).apply(obj, args);
            };
          }
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
        },
      });
    };
  }
  for (const name of ["exec", "run"]) {
    const original = target[name] as (sql: string, ...rest: unknown[]) => unknown;
    originals[name] = original;
    target[name] = function (this: Database, sql: string, ...rest: unknown[]) {
      record(sql);
      return original.call(this, sql, ...rest);
    };
  }
  return {
    statements,
    reset: () => void (statements.length = 0),
    restore: () => {
      for (const [name, fn] of Object.entries(originals)) target[name] = fn;
    },
  };
}
