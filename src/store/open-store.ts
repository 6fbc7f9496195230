/**
 * Opens the store: the database (sqlite file, or Postgres with `databaseUrl`; see database.ts) and its repositories.
 * `secretKey`: DS2API_SECRET_KEY when set; else the key file beside the sqlite file (see secret-key.ts).
 */
import { openDatabase, StoreError, type DatabaseOptions } from "./database.ts";
import { Store } from "./store.ts";

export async function openStore(o: DatabaseOptions): Promise<Store> {
  const db = await openDatabase(o);
  if (!db.sqlite) {
    // The repositories still run on bun:sqlite directly; the async ones over SqlExecutor replace them.
    await db.close();
    throw new StoreError(`this build's store runs on sqlite only for now; unset DS2API_DATABASE_URL (${db.location})`);
  }
  return new Store(db.sqlite, o.sqlitePath, db.box);
}
