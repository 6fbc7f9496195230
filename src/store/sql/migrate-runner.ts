/**
 * Applies the pending steps of src/store/migrations.ts, one transaction each.
 * - sqlite: the version is `PRAGMA user_version` (one process opens the file).
 * - Postgres: the version is `ds2api_schema(id = 1, version)`; every step runs under `pg_advisory_xact_lock`, and
 *   re-reads the version once it holds it, so instances starting together migrate once (the others wait, then
 *   find nothing left to do).
 * `withStartupLock` serialises whole start-ups (key check, config import, admin-key generation) on Postgres with a
 * session advisory lock held on one reserved connection; on sqlite it just runs `fn`.
 */
import { MIGRATIONS, type MigrationContext, type MigrationStep } from "../migrations.ts";
import type { SecretBox } from "../secret-box.ts";
import { StoreError } from "../store-error.ts";
import { ddl } from "./dialect.ts";
import type { SqlExecutor } from "./executor.ts";
import { isPgExecutor } from "./pg-executor.ts";

/** Advisory lock keys (bigint), "ds2a" + 1 / 2: one for migration steps, one for whole start-ups. */
export const MIGRATION_LOCK = 0x6473_3261_01;
export const STARTUP_LOCK = 0x6473_3261_02;

export interface MigrateOptions {
  /** Record the secret-key check value through `x` (the migration's transaction). */
  persistKey(x: SqlExecutor): Promise<void>;
  /** The steps to apply (default: all of them); tests pass a prefix to build an older schema. */
  steps?: readonly MigrationStep[];
}

export interface MigrateResult {
  /** Version before and after this run. */
  from: number;
  to: number;
}

async function applyStep(x: SqlExecutor, step: MigrationStep, box: SecretBox, ctx: MigrationContext): Promise<void> {
  if (typeof step === "string") await x.exec(ddl(x.dialect, step));
  else await step.run(x, box, ctx);
}

function tooNew(current: number, known: number): StoreError {
  return new StoreError(`schema version ${current} is newer than this build knows (${known}); upgrade ds2api`);
}

async function migrateSqlite(x: SqlExecutor, box: SecretBox, o: MigrateOptions, steps: readonly MigrationStep[]): Promise<MigrateResult> {
  const version = async (q: SqlExecutor) => (await q.get<{ user_version: number }>("PRAGMA user_version"))?.user_version ?? 0;
  const from = await version(x);
  if (from > steps.length) throw tooNew(from, steps.length);
  for (let v = from; v < steps.length; v++) {
    await x.transaction(async (tx) => {
      await applyStep(tx, steps[v]!, box, { fresh: from === 0, persistKey: () => o.persistKey(tx) });
      await tx.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
  return { from, to: Math.max(from, steps.length) };
}

async function migratePostgres(x: SqlExecutor, box: SecretBox, o: MigrateOptions, steps: readonly MigrationStep[]): Promise<MigrateResult> {
  let from: number | undefined;
  for (;;) {
    const done = await x.transaction(async (tx) => {
      await tx.get("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK]);
      // Under the lock, so two instances never race on creating the table.
      await tx.exec("CREATE TABLE IF NOT EXISTS ds2api_schema (id INT PRIMARY KEY, version INT NOT NULL)");
      await tx.run("INSERT INTO ds2api_schema(id, version) VALUES(1, 0) ON CONFLICT(id) DO NOTHING");
      const current = (await tx.get<{ version: number }>("SELECT version FROM ds2api_schema WHERE id = 1"))?.version ?? 0;
      from ??= current;
      if (current > steps.length) throw tooNew(current, steps.length);
      if (current === steps.length) return true;
      await applyStep(tx, steps[current]!, box, { fresh: from === 0, persistKey: () => o.persistKey(tx) });
      await tx.run("UPDATE ds2api_schema SET version = ? WHERE id = 1", [current + 1]);
      return false;
    });
    if (done) break;
  }
  return { from: from ?? 0, to: Math.max(from ?? 0, steps.length) };
}

/** Bring the schema behind `x` to the latest version (or `o.steps.length`). */
export function migrate(x: SqlExecutor, box: SecretBox, o: MigrateOptions): Promise<MigrateResult> {
  const steps = o.steps ?? MIGRATIONS;
  return x.dialect === "sqlite" ? migrateSqlite(x, box, o, steps) : migratePostgres(x, box, o, steps);
}

/** The schema version behind `x` (0 for an empty database). */
export async function schemaVersion(x: SqlExecutor): Promise<number> {
  if (x.dialect === "sqlite") return (await x.get<{ user_version: number }>("PRAGMA user_version"))?.user_version ?? 0;
  if (!(await x.hasTable("ds2api_schema"))) return 0;
  return (await x.get<{ version: number }>("SELECT version FROM ds2api_schema WHERE id = 1"))?.version ?? 0;
}

/** Run `fn` while no other instance runs its start-up (Postgres: session advisory lock); sqlite: `fn()`. */
export async function withStartupLock<T>(x: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  if (!isPgExecutor(x)) return fn();
  return x.reserved(async (conn) => {
    await conn.get("SELECT pg_advisory_lock(?)", [STARTUP_LOCK]);
    try {
      return await fn();
    } finally {
      await conn.get("SELECT pg_advisory_unlock(?)", [STARTUP_LOCK]).catch(() => {});
    }
  });
}
