/**
 * Opens the sqlite file (WAL, 0600, parent folder created, secure_delete), resolves the key for secrets at
 * rest, and applies pending migrations.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MIGRATIONS, VACUUM_PENDING_SETTING } from "./migrations.ts";
import type { SecretBox } from "./secret-box.ts";
import { resolveSecretKey, type ResolvedKey } from "./secret-key.ts";
import { StoreError } from "./store-error.ts";
import { startMark } from "../runtime/start-trace.ts";

export { StoreError } from "./store-error.ts";

function restrictPermissions(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(p)) chmodSync(p, 0o600);
    } catch {
      // best effort (e.g. filesystems without POSIX modes)
    }
  }
}

export function openDatabase(path: string, secretKey?: string): { db: Database; box: SecretBox } {
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
    keys = resolveSecretKey(db, full, isMemory, secretKey);
    startMark("secret key");
    migrate(db, keys);
    startMark("migrations");
    keys.persist(db);
    vacuumIfPending(db);
    if (fresh) db.exec("PRAGMA synchronous = NORMAL;");
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`database ${full} is not usable: ${(e as Error).message}`);
  }
  if (!isMemory) restrictPermissions(full);
  return { db, box: keys.box };
}

export function migrate(db: Database, keys: ResolvedKey): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new StoreError(`schema version ${current} is newer than this build knows (${MIGRATIONS.length}); upgrade ds2api`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const step = MIGRATIONS[v]!;
    db.transaction(() => {
      if (typeof step === "string") db.exec(step);
      else step(db, keys.box, { fresh: current === 0, persistKey: () => keys.persist(db) });
      db.exec(`PRAGMA user_version = ${v + 1}`);
    })();
  }
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
