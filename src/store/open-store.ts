/**
 * Opens the store: the database (sqlite file, or Postgres with `databaseUrl`; see database.ts) and its repositories.
 * `secretKey`: DS2API_SECRET_KEY when set; else the key file beside the sqlite file (see secret-key.ts).
 * `onWriteError`: a timed write of buffered counters failed (they are kept and retried); the server logs it.
 */
import { DependencyUnavailableError, type DependencyHealth } from "../core/cluster/ports.ts";
import { openDatabase, type DatabaseOptions } from "./database.ts";
import { withHealth } from "./sql/health-executor.ts";
import type { WriteBehindErrorReport } from "./sql/write-behind.ts";
import { Store } from "./store.ts";

export interface OpenStoreOptions extends DatabaseOptions {
  onWriteError?: WriteBehindErrorReport;
  /** Postgres: calls report to this health (refused at once while down); a `SELECT 1` probe brings it back up. */
  health?: DependencyHealth & { setProbe?(d: "database", probe: () => Promise<unknown>): void };
}

export async function openStore(o: OpenStoreOptions): Promise<Store> {
  const db = await openDatabase(o);
  const executor = o.health && db.kind === "postgres" ? withHealth(db.executor, o.health) : db.executor;
  if (o.health && db.kind === "postgres") o.health.setProbe?.("database", () => db.executor.get("SELECT 1 AS ok"));
  return new Store(executor, db.box, {
    kind: db.kind,
    location: db.location,
    withStartupLock: (fn) => db.withStartupLock(fn),
    close: () => db.close(),
    onWriteError: o.onWriteError,
  });
}

/**
 * `openStore`, waiting for a shared database that is not up yet (all instances of a cluster starting with it):
 * retried with backoff up to `waitMs`, then the last error. A local sqlite file is never waited for.
 */
export async function openStoreWaiting(o: OpenStoreOptions, waitMs: number, log: { warn(msg: string, f?: Record<string, unknown>): void }): Promise<Store> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (;;) {
    try {
      return await openStore(o);
    } catch (e) {
      if (!o.databaseUrl || !(e instanceof DependencyUnavailableError) || Date.now() + delay > deadline) throw e;
      log.warn("database not reachable yet; retrying", { error: e.message, retry_in_ms: delay });
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}
