/**
 * Opens the database the store runs on, resolves the key for secrets at rest, and applies pending migrations:
 * - sqlite (the default, one file): WAL, 0600, parent folder created, secure_delete, a fresh file set up without
 *   fsyncs, VACUUM after a migration that replaced plaintext in place;
 * - Postgres (DS2API_DATABASE_URL): a Bun.SQL pool; DS2API_SECRET_KEY is required; key check and migrations run
 *   under the start-up advisory lock, so instances starting together migrate once.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DependencyUnavailableError } from "../core/cluster/ports.ts";
import { VACUUM_PENDING_SETTING } from "./migrations.ts";
import type { SecretBox } from "./secret-box.ts";
import { resolveSecretKey, secretKeyRequired, type ResolvedKey } from "./secret-key.ts";
import type { SqlExecutor } from "./sql/executor.ts";
import { migrate, withStartupLock } from "./sql/migrate-runner.ts";
import { maskDatabaseUrl, openPgExecutor } from "./sql/pg-executor.ts";
import { sqliteExecutor } from "./sql/sqlite-executor.ts";
import { StoreError } from "./store-error.ts";
import { startMark } from "../runtime/start-trace.ts";

export { StoreError } from "./store-error.ts";

export interface DatabaseOptions {
  /** The sqlite file (or ":memory:"), used when `databaseUrl` is not set. */
  sqlitePath: string;
  /** postgres://… selects Postgres. */
  databaseUrl?: string;
  /** DS2API_SECRET_KEY; required with `databaseUrl`. */
  secretKey?: string;
}

export interface OpenDatabase {
  kind: "sqlite" | "postgres";
  executor: SqlExecutor;
  box: SecretBox;
  /** The sqlite path, or the URL with its password masked. */
  location: string;
  /** The bun:sqlite handle (sqlite only). */
  sqlite?: Database;
  /** Postgres: a session advisory lock around `fn` (one instance at a time); sqlite: `fn()`. */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
  /** sqlite: checkpoint the WAL and close; Postgres: close the pool. Safe to call twice. */
  close(): Promise<void>;
}

export function openDatabase(o: DatabaseOptions): Promise<OpenDatabase> {
  return o.databaseUrl ? openPostgres(o.databaseUrl, o.secretKey) : openSqlite(o.sqlitePath, o.secretKey);
}

function restrictPermissions(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(p)) chmodSync(p, 0o600);
    } catch {
      // best effort (e.g. filesystems without POSIX modes)
    }
  }
}

async function openSqlite(path: string, secretKey: string | undefined): Promise<OpenDatabase> {
  const isMemory = path === ":memory:";
  const full = isMemory ? path : resolve(path);
  if (!isMemory) {
    try {
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StoreError(`cannot create the folder for the database ${full}: ${(e as Error).message}`);
    }
  }
  // A file this start creates holds nothing yet: it is set up without fsyncs (see below).
  const fresh = !isMemory && !existsSync(full);
  let db: Database;
  try {
    db = new Database(full, { create: true, strict: true });
  } catch (e) {
    throw new StoreError(`cannot open the database ${full}: ${(e as Error).message}`);
  }
  const executor = sqliteExecutor(db);
  let keys: ResolvedKey;
  try {
    // On a new file, switching to WAL and creating the schema would cost some ten fsyncs (rollback journal, its
    // folder, the file header, then the WAL header and its folder): tens of milliseconds of a first start on a busy
    // disk. They are skipped while the file holds only its schema; a power cut in those milliseconds can lose that
    // schema (the next start recreates it, or reports a damaged file to delete), never stored data.
    if (fresh) db.exec("PRAGMA synchronous = OFF;");
    db.exec("PRAGMA journal_mode = WAL;");
    if (!fresh) db.exec("PRAGMA synchronous = NORMAL;");
    db.exec("PRAGMA busy_timeout = 5000;");
    db.exec("PRAGMA foreign_keys = ON;");
    // Deleted and overwritten content is zeroed, so no old secret lingers in free pages.
    db.exec("PRAGMA secure_delete = ON;");
    startMark("sqlite opened");
    keys = await resolveSecretKey(executor, { location: full, keyFile: isMemory ? undefined : `${full}.key`, memory: isMemory }, secretKey);
    startMark("secret key");
    await migrate(executor, keys.box, { persistKey: (x) => keys.persist(x) });
    startMark("migrations");
    await keys.persist(executor);
    vacuumIfPending(db);
    if (fresh) db.exec("PRAGMA synchronous = NORMAL;");
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`database ${full} is not usable: ${(e as Error).message}`);
  }
  if (!isMemory) restrictPermissions(full);
  let closed = false;
  return {
    kind: "sqlite",
    executor,
    box: keys.box,
    location: path,
    sqlite: db,
    withStartupLock: (fn) => fn(),
    async close() {
      if (closed) return;
      closed = true;
      try {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
      } catch {
        // already closed
      }
      db.close();
    },
  };
}

/**
 * After a migration rewrote secrets in place, rebuild the file so the plaintext they replaced is gone from
 * free pages, then empty the WAL. The flag is set inside the migration, so a crash before this runs only
 * postpones it to the next start.
 */
function vacuumIfPending(db: Database): void {
  const row = db.query("SELECT value FROM settings WHERE key = ?").get(VACUUM_PENDING_SETTING);
  if (!row) return;
  db.exec("VACUUM;");
  db.query("DELETE FROM settings WHERE key = ?").run(VACUUM_PENDING_SETTING);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
}

async function openPostgres(url: string, secretKey: string | undefined): Promise<OpenDatabase> {
  const location = maskDatabaseUrl(url);
  if (!secretKey) throw secretKeyRequired(location);
  let executor: SqlExecutor;
  try {
    executor = await openPgExecutor(url);
  } catch (e) {
    if (e instanceof DependencyUnavailableError) throw e;
    throw new StoreError(`cannot open the database ${location}: ${(e as Error).message}`);
  }
  let keys: ResolvedKey;
  try {
    keys = await withStartupLock(executor, async () => {
      const resolved = await resolveSecretKey(executor, { location }, secretKey);
      await migrate(executor, resolved.box, { persistKey: (x) => resolved.persist(x) });
      await resolved.persist(executor);
      return resolved;
    });
  } catch (e) {
    await executor.close().catch(() => {});
    if (e instanceof StoreError || e instanceof DependencyUnavailableError) throw e;
    throw new StoreError(`database ${location} is not usable: ${(e as Error).message}`);
  }
  let closed = false;
  return {
    kind: "postgres",
    executor,
    box: keys.box,
    location,
    withStartupLock: (fn) => withStartupLock(executor, fn),
    async close() {
      if (closed) return;
      closed = true;
      await executor.close();
    },
  };
}
