/**
 * Opens the store: the database (sqlite file, or Postgres with `databaseUrl`; see database.ts) and its repositories.
 * `secretKey`: DS2API_SECRET_KEY when set; else the key file beside the sqlite file (see secret-key.ts).
 * `onWriteError`: a timed write of buffered counters failed (they are kept and retried); the server logs it.
 */
import { openDatabase, type DatabaseOptions } from "./database.ts";
import type { WriteBehindErrorReport } from "./sql/write-behind.ts";
import { Store } from "./store.ts";

export async function openStore(o: DatabaseOptions & { onWriteError?: WriteBehindErrorReport }): Promise<Store> {
  const db = await openDatabase(o);
  return new Store(db.executor, db.box, {
    kind: db.kind,
    location: db.location,
    withStartupLock: (fn) => db.withStartupLock(fn),
    close: () => db.close(),
    onWriteError: o.onWriteError,
  });
}
