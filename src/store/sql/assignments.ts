/**
 * `SET` assignments for the fields a caller gave (undefined = leave the column alone), so a partial update is one
 * statement: atomic on both engines, no read-then-write that a concurrent update could slip between.
 */
import type { SqlValue } from "./executor.ts";

export function assignments(fields: Record<string, SqlValue | undefined>): { sql: string; params: SqlValue[] } {
  const given = Object.entries(fields).filter((e): e is [string, SqlValue] => e[1] !== undefined);
  return { sql: given.map(([column]) => `${column} = ?`).join(", "), params: given.map(([, v]) => v) };
}
