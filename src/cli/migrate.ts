/**
 * `ds2api migrate --to postgres://… [--db PATH] [--force]`: move a single instance's sqlite store into Postgres, so
 * several instances can share it (docs/DEPLOY.md). Both sides are first migrated to the latest schema; then every
 * table is copied row for row inside ONE Postgres transaction (sealed secrets stay sealed: the same key opens them),
 * the row counts are compared, and the target is reopened with the key to prove it opens. Nothing is written to the
 * sqlite file beyond its own pending migrations.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase, StoreError, type OpenDatabase } from "../store/database.ts";
import type { SqlExecutor, SqlValue } from "../store/sql/executor.ts";
import { maskDatabaseUrl } from "../store/sql/pg-executor.ts";

/** Rows per INSERT: well under Postgres' 65535 parameters for the widest table. */
const BATCH = 500;
/** Tables that hold what an operator would lose; the target must have none of these rows unless --force. */
const USER_TABLES = ["accounts", "api_keys", "provider_credentials", "chat_history", "audit_log", "usage_buckets", "api_key_usage", "uploaded_files"];
/** Bookkeeping of the schema itself, never copied. */
const SKIP = new Set(["ds2api_schema"]);

export class MigrateError extends Error {}

export interface MigrateCommandResult {
  tables: { name: string; source: number; target: number }[];
  target: string;
  keyHint: string;
}

interface Parsed {
  to: string;
  db: string;
  force: boolean;
}

function parse(argv: string[], env: Record<string, string | undefined>): Parsed {
  let values: { to?: string; db?: string; force?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { to: { type: "string" }, db: { type: "string" }, force: { type: "boolean" } }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new MigrateError(`${(e as Error).message} (usage: ds2api migrate --to postgres://user:pass@host:5432/db [--db ./data/ds2api.sqlite] [--force])`);
  }
  const to = values.to?.trim();
  if (!to) throw new MigrateError("--to postgres://user:pass@host:5432/db is required");
  if (!/^postgres(ql)?:\/\//i.test(to)) throw new MigrateError("--to must be a postgres:// or postgresql:// URL");
  const db = (values.db ?? env.DS2API_DB_PATH)?.trim() || "./data/ds2api.sqlite";
  return { to, db, force: values.force === true };
}

/** The key that opens the sqlite file's secrets, as DS2API_SECRET_KEY text: the variable, else the key file. */
function sourceKey(dbPath: string, env: Record<string, string | undefined>): { key: string; hint: string } {
  const fromEnv = env.DS2API_SECRET_KEY?.trim();
  if (fromEnv) return { key: fromEnv, hint: "the same DS2API_SECRET_KEY as now" };
  const keyFile = `${resolve(dbPath)}.key`;
  if (!existsSync(keyFile)) throw new MigrateError(`no secret key: DS2API_SECRET_KEY is not set and ${keyFile} does not exist`);
  return { key: readFileSync(keyFile, "utf8").trim(), hint: `DS2API_SECRET_KEY set to the contents of ${keyFile}` };
}

async function tablesOf(x: SqlExecutor): Promise<string[]> {
  const rows = await x.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  return rows.map((r) => r.name).filter((n) => !SKIP.has(n));
}

async function countOf(x: SqlExecutor, table: string): Promise<number> {
  return (await x.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n ?? 0;
}

async function copyTable(from: SqlExecutor, to: SqlExecutor, table: string): Promise<void> {
  const info = await from.all<{ name: string; pk: number }>(`SELECT name, pk FROM pragma_table_info('${table}') ORDER BY cid`);
  const cols = info.map((c) => c.name);
  if (!cols.length) return;
  // A stable order for the batches: the primary key (some tables have no rowid), else the rowid.
  const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
  const order = pk.length ? pk.join(", ") : "rowid";
  await to.run(`DELETE FROM ${table}`);
  const list = cols.map((c) => `"${c}"`).join(", ");
  const row = `(${cols.map(() => "?").join(", ")})`;
  for (let offset = 0; ; offset += BATCH) {
    const rows = await from.all<Record<string, SqlValue>>(`SELECT ${list} FROM ${table} ORDER BY ${order} LIMIT ? OFFSET ?`, [BATCH, offset]);
    if (!rows.length) break;
    const params: SqlValue[] = [];
    for (const r of rows) for (const c of cols) params.push(r[c] ?? null);
    await to.run(`INSERT INTO ${table} (${list}) VALUES ${rows.map(() => row).join(", ")}`, params);
    if (rows.length < BATCH) break;
  }
}

export async function runMigrate(argv: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<MigrateCommandResult> {
  const o = parse(argv, env);
  if (!existsSync(resolve(o.db))) throw new MigrateError(`no sqlite file at ${resolve(o.db)} (name it with --db or DS2API_DB_PATH)`);
  const { key, hint } = sourceKey(o.db, env);
  const target = maskDatabaseUrl(o.to);
  let source: OpenDatabase | undefined;
  let dest: OpenDatabase | undefined;
  try {
    source = await openDatabase({ sqlitePath: o.db, secretKey: key });
    dest = await openDatabase({ sqlitePath: "", databaseUrl: o.to, secretKey: key });
    const from = source.executor;
    const to = dest.executor;
    if (!o.force) {
      const used: string[] = [];
      for (const t of USER_TABLES) if ((await to.hasTable(t)) && (await countOf(to, t)) > 0) used.push(t);
      if (used.length) throw new MigrateError(`${target} already holds data (${used.join(", ")}); pass --force to replace it`);
    }
    const tables = (await tablesOf(from)).filter((t) => t !== "sqlite_sequence");
    for (const t of tables) if (!(await to.hasTable(t))) throw new MigrateError(`${target} has no table ${t}: is it a ds2api database of an older version?`);
    await to.transaction(async (tx) => {
      for (const t of tables) await copyTable(from, tx, t);
      // Identity columns continue after the copied ids.
      await tx.run("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM audit_log), 1))");
    });
    const counts: MigrateCommandResult["tables"] = [];
    for (const t of tables) counts.push({ name: t, source: await countOf(from, t), target: await countOf(to, t) });
    const width = Math.max(...counts.map((c) => c.name.length));
    for (const c of counts) out(`${c.name.padEnd(width)}  ${String(c.source).padStart(8)} → ${String(c.target).padStart(8)}${c.source === c.target ? "" : "  MISMATCH"}`);
    const bad = counts.filter((c) => c.source !== c.target);
    if (bad.length) throw new MigrateError(`row counts differ for ${bad.map((c) => c.name).join(", ")}`);
    await dest.close();
    dest = undefined;
    // Reopen: the copied key check must accept the key the instances will start with.
    const check = await openDatabase({ sqlitePath: "", databaseUrl: o.to, secretKey: key });
    await check.close();
    out(`copied ${counts.length} tables into ${target}`);
    out(`start every instance with DS2API_DATABASE_URL=${target} (with its password) and ${hint}`);
    return { tables: counts, target, keyHint: hint };
  } finally {
    await dest?.close().catch(() => {});
    await source?.close().catch(() => {});
  }
}

/** CLI wrapper: 0 done, 1 failed (message on stderr), 2 bad usage. */
export async function runMigrateCommand(argv: string[]): Promise<number> {
  try {
    await runMigrate(argv, process.env, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (e) {
    if (e instanceof MigrateError || e instanceof StoreError) {
      process.stderr.write(`ds2api migrate: ${e.message}\n`);
      return e instanceof MigrateError && /required|must be|usage/.test(e.message) ? 2 : 1;
    }
    process.stderr.write(`ds2api migrate: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
}
