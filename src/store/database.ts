/** Opens the sqlite file (WAL, 0600, parent folder created) and applies pending migrations. */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MIGRATIONS } from "./migrations.ts";

export class StoreError extends Error {}

function restrictPermissions(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(p)) chmodSync(p, 0o600);
    } catch {
      // best effort (e.g. filesystems without POSIX modes)
    }
  }
}

export function openDatabase(path: string): Database {
  const isMemory = path === ":memory:";
  const full = isMemory ? path : resolve(path);
  if (!isMemory) {
    try {
      mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StoreError(`cannot create the folder for the database ${full}: ${(e as Error).message}`);
    }
  }
  let db: Database;
  try {
    db = new Database(full, { create: true, strict: true });
  } catch (e) {
    throw new StoreError(`cannot open the database ${full}: ${(e as Error).message}`);
  }
  try {
    db.exec("PRAGMA journal_mode = WAL;");
    db.exec("PRAGMA synchronous = NORMAL;");
    db.exec("PRAGMA busy_timeout = 5000;");
    db.exec("PRAGMA foreign_keys = ON;");
    migrate(db);
  } catch (e) {
    db.close();
    throw new StoreError(`database ${full} is not usable: ${(e as Error).message}`);
  }
  if (!isMemory) restrictPermissions(full);
  return db;
}

export function migrate(db: Database): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new StoreError(`schema version ${current} is newer than this build knows (${MIGRATIONS.length}); upgrade ds2api`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    })();
  }
}
