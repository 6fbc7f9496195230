/**
 * Opening the sqlite store: a file created by this start is set up without fsyncs, but once open it runs with
 * the same settings as any reopened file (WAL, synchronous=NORMAL, full schema), and what was written survives.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { openStore } from "../src/store/open-store.ts";
import type { Store } from "../src/store/store.ts";
import { tempDir } from "./support/test-server.ts";

const pragma = (store: Store, name: string) => Object.values(store.db.query(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];

describe("opening the store", () => {
  let dir: string | undefined;
  let store: Store | undefined;
  afterEach(() => {
    store?.close();
    store = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  test("a new file ends up in WAL with synchronous=NORMAL and the whole schema, like a reopened one", async () => {
    dir = tempDir();
    const path = join(dir, "sub", "db.sqlite");
    store = await openStore({ sqlitePath: path });
    expect(pragma(store, "journal_mode")).toBe("wal");
    expect(pragma(store, "synchronous")).toBe(1); // NORMAL
    expect(pragma(store, "user_version")).toBe(MIGRATIONS.length);
    store.settings.set("probe", { n: 1 });
    store.close();

    store = await openStore({ sqlitePath: path });
    expect(pragma(store, "journal_mode")).toBe("wal");
    expect(pragma(store, "synchronous")).toBe(1);
    expect(pragma(store, "user_version")).toBe(MIGRATIONS.length);
    expect(store.settings.get<{ n: number }>("probe")).toEqual({ n: 1 });
  });
});
