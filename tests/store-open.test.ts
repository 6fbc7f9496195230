/**
 * Opening the sqlite store: a file created by this start is set up without fsyncs, but once open it runs with
 * the same settings as any reopened file (WAL, synchronous=NORMAL, full schema), and what was written survives.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { openDatabase, type OpenDatabase } from "../src/store/database.ts";
import { Store } from "../src/store/store.ts";
import { tempDir } from "./support/test-server.ts";

/** A pragma as the store's own connection sees it (synchronous is per connection). */
const pragma = async (db: OpenDatabase, name: string) => Object.values((await db.executor.get<Record<string, unknown>>(`PRAGMA ${name}`))!)[0];

async function open(path: string): Promise<{ db: OpenDatabase; store: Store }> {
  const db = await openDatabase({ sqlitePath: path });
  const store = new Store(db.executor, db.box, { kind: db.kind, location: db.location, withStartupLock: (fn) => db.withStartupLock(fn), close: () => db.close() });
  return { db, store };
}

describe("opening the store", () => {
  let dir: string | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  test("a new file ends up in WAL with synchronous=NORMAL and the whole schema, like a reopened one", async () => {
    dir = tempDir();
    const path = join(dir, "sub", "db.sqlite");
    let db: OpenDatabase;
    ({ db, store } = await open(path));
    expect(await pragma(db, "journal_mode")).toBe("wal");
    expect(await pragma(db, "synchronous")).toBe(1); // NORMAL
    expect(await pragma(db, "user_version")).toBe(MIGRATIONS.length);
    await store.settings.set("probe", { n: 1 });
    await store.close();

    ({ db, store } = await open(path));
    expect(await pragma(db, "journal_mode")).toBe("wal");
    expect(await pragma(db, "synchronous")).toBe(1);
    expect(await pragma(db, "user_version")).toBe(MIGRATIONS.length);
    expect(await store.settings.get<{ n: number }>("probe")).toEqual({ n: 1 });
  });
});
