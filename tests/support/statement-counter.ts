/**
 * Counts the SQL statements a piece of code runs on one bun:sqlite Database, or on every connection to one file:
 * every run/get/all/values/iterate of a statement from `query`/`prepare`, and every `exec`/`run` on the database
 * itself (BEGIN/COMMIT of `transaction` included when bun issues them through those). The database (or the
 * Database prototype) is wrapped in place; `restore()` undoes it.
 */
import { Database } from "bun:sqlite";
import { resolve } from "node:path";

export interface StatementCounter {
  /** The statements run since the counter started (or since the last `reset`), in order. */
  readonly statements: string[];
  reset(): void;
  restore(): void;
}

const EXECUTING = new Set(["run", "get", "all", "values", "iterate"]);

export function countStatements(db: Database): StatementCounter {
  return countOn(db as unknown as Record<string, unknown>, () => true);
}

/**
 * The same, for every bun:sqlite connection of this process to the file at `path` (matched by file name): the store
 * is reached through whatever wraps it (the async repositories, an executor), never through a handle the test holds.
 */
export function countStatementsOnFile(path: string): StatementCounter {
  const file = resolve(path);
  return countOn(Database.prototype as unknown as Record<string, unknown>, (db) => resolve(db.filename) === file);
}

function countOn(target: Record<string, unknown>, ours: (db: Database) => boolean): StatementCounter {
  const statements: string[] = [];
  const record = (db: Database, sql: string) => {
    if (ours(db)) statements.push(sql.replace(/\s+/g, " ").trim());
  };
  const originals: Record<string, unknown> = {};
  for (const name of ["query", "prepare"]) {
    const original = target[name] as (sql: string, ...rest: unknown[]) => object;
    originals[name] = original;
    target[name] = function (this: Database, sql: string, ...rest: unknown[]) {
      const db = this;
      const stmt = original.call(this, sql, ...rest);
      return new Proxy(stmt, {
        get(obj, prop, receiver) {
          const value = Reflect.get(obj, prop, receiver);
          if (typeof prop === "string" && EXECUTING.has(prop) && typeof value === "function") {
            return (...args: unknown[]) => {
              record(db, sql);
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
      record(this, sql);
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
