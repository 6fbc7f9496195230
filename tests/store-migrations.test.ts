/**
 * One migration list for sqlite and Postgres: a fresh database of either kind reaches the latest version with the
 * same tables, columns (name, int/text/blob class, nullability, primary key) and index names; an sqlite file at
 * version 8 upgrades to 9 keeping its data; several instances opening one Postgres database at once migrate it
 * once; a missing or wrong secret key and an unreachable server stop the start with a clear error. Also the pieces:
 * ddl() (rewrites, refuses sqlite-only SQL) and the Postgres executor (placeholders, row shapes, transactions).
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { DependencyUnavailableError } from "../src/core/cluster/ports.ts";
import { openDatabase, StoreError, type OpenDatabase } from "../src/store/database.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { resolveSecretKey } from "../src/store/secret-key.ts";
import { assertPortable, ddl } from "../src/store/sql/dialect.ts";
import type { SqlExecutor } from "../src/store/sql/executor.ts";
import { migrate, schemaVersion } from "../src/store/sql/migrate-runner.ts";
import { numberPlaceholders, openPgExecutor } from "../src/store/sql/pg-executor.ts";
import { sqliteExecutor } from "../src/store/sql/sqlite-executor.ts";
import { trackStop } from "./support/processes.ts";
import { findPostgresBinaries, postgresForTests, type TestPostgres } from "./support/postgres.ts";
import { tempDir } from "./support/test-server.ts";
import { waitUntil } from "./support/wait.ts";

const PASSPHRASE = "a shared passphrase for every instance";
const OTHER_KEY = "b".repeat(64);

const dirs: string[] = [];
function freshDir(): string {
  const d = tempDir("ds2api-migrations-");
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let pg: TestPostgres;
beforeAll(async () => {
  pg = await postgresForTests();
});

async function openPg(url: string, secretKey: string | undefined = PASSPHRASE): Promise<OpenDatabase> {
  return openDatabase({ sqlitePath: "unused.sqlite", databaseUrl: url, secretKey });
}

async function openPgWithoutKey(url: string): Promise<OpenDatabase> {
  return openDatabase({ sqlitePath: "unused.sqlite", databaseUrl: url });
}

/** A URL with a password (trust auth ignores it), to prove it never shows in a message. */
function withPassword(url: string): string {
  return url.replace("postgres://ds2@", "postgres://ds2:hunter2-secret@");
}

/** What an error says, or a failure when nothing was thrown. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error, the call succeeded");
}

type ColumnClass = "int" | "text" | "blob" | "real";
interface ColumnShape {
  name: string;
  class: ColumnClass;
  notNull: boolean;
  pk: boolean;
}
interface SchemaShape {
  tables: Record<string, ColumnShape[]>;
  /** Explicitly created indexes (not the ones behind primary keys): name → "table(col, …)", "unique " first when unique. */
  indexes: Record<string, string>;
}

function classOf(type: string): ColumnClass {
  const t = type.toUpperCase();
  if (t.includes("INT")) return "int";
  if (t.includes("CHAR") || t.includes("TEXT")) return "text";
  if (t.includes("BLOB") || t.includes("BYTEA")) return "blob";
  if (t.includes("REAL") || t.includes("DOUBLE") || t.includes("FLOAT") || t.includes("NUMERIC")) return "real";
  throw new Error(`unknown column type ${type}`);
}

async function sqliteShape(x: SqlExecutor): Promise<SchemaShape> {
  const tables: SchemaShape["tables"] = {};
  for (const { name } of await x.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")) {
    const cols = await x.all<{ name: string; type: string; notnull: number; pk: number }>(`PRAGMA table_info(${name})`);
    // A sqlite primary key column accepts NULL unless declared NOT NULL (a quirk); Postgres makes it NOT NULL. Same intent.
    tables[name] = cols.map((c) => ({ name: c.name, class: classOf(c.type), notNull: c.notnull === 1 || c.pk > 0, pk: c.pk > 0 })).sort((a, b) => a.name.localeCompare(b.name));
  }
  const indexes: SchemaShape["indexes"] = {};
  for (const i of await x.all<{ name: string; tbl_name: string }>("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")) {
    const cols = (await x.all<{ name: string }>(`PRAGMA index_info(${i.name})`)).map((c) => c.name);
    const unique = (await x.all<{ name: string; unique: number }>(`PRAGMA index_list(${i.tbl_name})`)).find((l) => l.name === i.name)!.unique === 1;
    indexes[i.name] = `${unique ? "unique " : ""}${i.tbl_name}(${cols.join(", ")})`;
  }
  return { tables, indexes };
}

async function postgresShape(x: SqlExecutor): Promise<SchemaShape> {
  const tables: SchemaShape["tables"] = {};
  const cols = await x.all<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'ds2api_schema' ORDER BY table_name, column_name",
  );
  const pks = new Set(
    (
      await x.all<{ table_name: string; column_name: string }>(
        `SELECT k.table_name, k.column_name FROM information_schema.table_constraints c
         JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema AND k.table_name = c.table_name
         WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()`,
      )
    ).map((r) => `${r.table_name}.${r.column_name}`),
  );
  for (const c of cols) {
    (tables[c.table_name] ??= []).push({ name: c.column_name, class: classOf(c.data_type), notNull: c.is_nullable === "NO", pk: pks.has(`${c.table_name}.${c.column_name}`) });
  }
  for (const t of Object.values(tables)) t.sort((a, b) => a.name.localeCompare(b.name));
  const indexes: SchemaShape["indexes"] = {};
  const rows = await x.all<{ index_name: string; table_name: string; col: string; is_unique: number }>(
    `SELECT i.relname AS index_name, t.relname AS table_name, a.attname AS col, x.indisunique AS is_unique
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
     CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, pos)
     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
     WHERE t.relname <> 'ds2api_schema' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
     ORDER BY i.relname, k.pos`,
  );
  const grouped = new Map<string, { table: string; unique: boolean; cols: string[] }>();
  for (const r of rows) {
    const g = grouped.get(r.index_name) ?? { table: r.table_name, unique: r.is_unique === 1, cols: [] };
    g.cols.push(r.col);
    grouped.set(r.index_name, g);
  }
  for (const [name, g] of grouped) indexes[name] = `${g.unique ? "unique " : ""}${g.table}(${g.cols.join(", ")})`;
  return { tables, indexes };
}

describe("the test Postgres", () => {
  test("without the server binaries the Postgres tests fail (never skip) with a message naming the Debian package", () => {
    expect(() => findPostgresBinaries(["/nonexistent/bin"])).toThrow(/Postgres is not installed: .*apt-get install postgresql/);
    expect(findPostgresBinaries()).toMatch(/bin$/);
  });
});

describe("ddl(): one schema text for both engines", () => {
  test("Postgres gets identity keys, BIGINT, BYTEA, DOUBLE PRECISION and no WITHOUT ROWID; sqlite gets the text unchanged", () => {
    const src = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL DEFAULT 0, b BLOB, r REAL, s TEXT DEFAULT 'INTEGER') WITHOUT ROWID;";
    expect(ddl("sqlite", src)).toBe(src);
    expect(ddl("postgres", src)).toBe(
      "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0, b BYTEA, r DOUBLE PRECISION, s TEXT DEFAULT 'INTEGER');",
    );
  });

  test.each([
    ["PRAGMA user_version = 3"],
    ["SELECT rowid FROM t"],
    ["INSERT OR REPLACE INTO t VALUES (1)"],
    ["INSERT OR IGNORE INTO t VALUES (1)"],
    ["SELECT * FROM t WHERE a GLOB 'x*'"],
    ["SELECT instr(a, 'x') FROM t"],
    ["SELECT datetime('now')"],
  ])("refuses the sqlite-only %p on both engines", (sql) => {
    expect(() => ddl("postgres", sql)).toThrow(/not portable to Postgres/);
    expect(() => ddl("sqlite", sql)).toThrow(/not portable to Postgres/);
  });

  test("every SQL step of the list is portable (code steps check theirs when they run)", () => {
    for (const step of MIGRATIONS) if (typeof step === "string") assertPortable(step);
    expect(() => assertPortable("CREATE TABLE t (s TEXT DEFAULT 'rowid')")).not.toThrow();
  });
});

describe("the Postgres executor", () => {
  let x: SqlExecutor;
  beforeAll(async () => {
    x = await openPgExecutor(await pg.freshDatabase("executor"));
    await x.exec("CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, b BYTEA, s TEXT, f DOUBLE PRECISION)");
  });
  afterAll(async () => {
    await x?.close();
  });

  test("? placeholders become $n outside strings, identifiers and comments", () => {
    expect(numberPlaceholders(`SELECT '?', "a?", ? -- ?\n, ? /* ? */, 'it''s ?', ?`)).toBe(`SELECT '?', "a?", $1 -- ?\n, $2 /* ? */, 'it''s ?', $3`);
  });

  test("rows come back in sqlite's shapes: int8, COUNT and SUM as numbers, booleans 1/0, bytea as Uint8Array, text stays text", async () => {
    const big = 1_765_000_000_000; // a ms timestamp: needs int8
    expect(await x.run("INSERT INTO t(n, b, s, f) VALUES(?, ?, ?, ?)", [big, new Uint8Array([0, 1, 255]), "42", 1.5])).toEqual({ changes: 1 });
    await x.run("INSERT INTO t(n, s) VALUES(?, ?)", [2, null]);
    const rows = await x.all<Record<string, unknown>>("SELECT id, n, b, s, f FROM t ORDER BY id");
    expect(rows).toEqual([
      { id: 1, n: big, b: new Uint8Array([0, 1, 255]), s: "42", f: 1.5 },
      { id: 2, n: 2, b: null, s: null, f: null },
    ]);
    expect(rows[0]!.b).toBeInstanceOf(Uint8Array);
    expect(await x.get("SELECT COUNT(*) AS c, SUM(n) AS total, MAX(n) > 0 AS yes FROM t")).toEqual({ c: 2, total: big + 2, yes: 1 });
    expect(await x.get("SELECT n FROM t WHERE id = ?", [99])).toBeUndefined();
    expect(await x.run("UPDATE t SET s = ? WHERE n < ?", ["small", 10])).toEqual({ changes: 1 });
    expect(await x.hasTable("t")).toBe(true);
    expect(await x.hasTable("nope")).toBe(false);
  });

  test("a transaction commits or rolls back as a whole; a nested one runs inside it", async () => {
    const count = async () => (await x.get<{ c: number }>("SELECT COUNT(*) AS c FROM t"))!.c;
    const before = await count();
    const err = await failure(
      x.transaction(async (tx) => {
        await tx.run("INSERT INTO t(n) VALUES(?)", [10]);
        await tx.transaction((inner) => inner.run("INSERT INTO t(n) VALUES(?)", [11]));
        expect((await tx.get<{ c: number }>("SELECT COUNT(*) AS c FROM t"))!.c).toBe(before + 2);
        throw new Error("undo");
      }),
    );
    expect(err.message).toBe("undo");
    expect(await count()).toBe(before);
    expect(await x.transaction(async (tx) => (await tx.run("INSERT INTO t(n) VALUES(?)", [12])).changes)).toBe(1);
    expect(await count()).toBe(before + 1);
  });

  test("a SQL error stays a plain error with the server's message", async () => {
    const err = await failure(x.get("SELECT * FROM missing_table"));
    expect(err).not.toBeInstanceOf(DependencyUnavailableError);
    expect(err.message).toContain('relation "missing_table" does not exist');
  });
});

describe("a fresh database reaches the latest version", () => {
  test("sqlite", async () => {
    const db = await openDatabase({ sqlitePath: join(freshDir(), "db.sqlite") });
    try {
      expect(db.kind).toBe("sqlite");
      expect(await schemaVersion(db.executor)).toBe(MIGRATIONS.length);
      expect(MIGRATIONS.length).toBe(9);
    } finally {
      await db.close();
    }
  });

  test("Postgres; reopening keeps it there and opens the same secrets", async () => {
    const url = await pg.freshDatabase("fresh");
    const db = await openPg(withPassword(url));
    let sealed: string;
    try {
      expect(db.kind).toBe("postgres");
      expect(db.location).not.toContain("hunter2-secret");
      expect(db.location).toContain("****");
      expect(await schemaVersion(db.executor)).toBe(MIGRATIONS.length);
      sealed = db.box.seal("hello", "probe");
    } finally {
      await db.close();
    }
    const again = await openPg(url);
    try {
      expect(await schemaVersion(again.executor)).toBe(MIGRATIONS.length);
      expect(again.box.open(sealed, "probe")).toBe("hello");
    } finally {
      await again.close();
    }
  });
});

describe("parity", () => {
  test("every table has the same columns (name, int/text/blob class, nullability, primary key) and the same index names on both", async () => {
    const lite = await openDatabase({ sqlitePath: join(freshDir(), "db.sqlite") });
    const post = await openPg(await pg.freshDatabase("parity"));
    try {
      const a = await sqliteShape(lite.executor);
      const b = await postgresShape(post.executor);
      expect(Object.keys(a.tables).length).toBeGreaterThanOrEqual(12);
      expect(a.tables.chat_history!.find((c) => c.name === "seq")).toEqual({ name: "seq", class: "int", notNull: true, pk: false });
      expect(a.indexes.api_keys_id).toBe("unique api_keys(key_id)");
      expect(b).toEqual(a);
    } finally {
      await lite.close();
      await post.close();
    }
  });
});

describe("sqlite upgrade 8 → 9", () => {
  test("a file at version 8 with data upgrades in place: every row kept, chat history ordered as before by seq, user_version 9", async () => {
    const path = join(freshDir(), "v8.sqlite");
    const handle = new Database(path, { create: true, strict: true });
    const x = sqliteExecutor(handle);
    const keys = await resolveSecretKey(x, { location: path, keyFile: `${path}.key` }, undefined);
    await migrate(x, keys.box, { persistKey: (tx) => keys.persist(tx), steps: MIGRATIONS.slice(0, 8) });
    await keys.persist(x);
    expect(await schemaVersion(x)).toBe(8);
    const now = 1_765_000_000_000;
    // Two turns in the same millisecond: today's list order breaks the tie by insertion (rowid).
    for (const [id, at] of [["h-1", now], ["h-2", now + 5], ["h-3", now + 5], ["h-4", now + 1]] as const) {
      await x.run("INSERT INTO chat_history(id, revision, created_at, updated_at, status, detail) VALUES(?, ?, ?, ?, 'done', '{}')", [id, 1, at, at]);
    }
    await x.run("UPDATE chat_history SET revision = 9 WHERE id = 'h-2'");
    await x.run("INSERT INTO accounts(identifier, email, created_at, updated_at, sort_order, device_id) VALUES('a@x.io', 'a@x.io', ?, ?, 1, 'abcd')", [now, now]);
    await x.run("INSERT INTO settings(key, value) VALUES('probe', '{\"n\":1}')");
    const oldOrder = (await x.all<{ id: string }>("SELECT id FROM chat_history ORDER BY created_at DESC, rowid DESC")).map((r) => r.id);
    const accountsBefore = await x.all("SELECT * FROM accounts");
    const settingsBefore = await x.all("SELECT * FROM settings ORDER BY key");
    handle.close();

    const db = await openDatabase({ sqlitePath: path });
    try {
      expect(await schemaVersion(db.executor)).toBe(9);
      expect(await db.executor.all("SELECT * FROM accounts")).toEqual(accountsBefore);
      expect(await db.executor.all("SELECT * FROM settings ORDER BY key")).toEqual(settingsBefore);
      const newOrder = (await db.executor.all<{ id: string }>("SELECT id FROM chat_history ORDER BY created_at DESC, seq DESC")).map((r) => r.id);
      expect(oldOrder).toEqual(["h-3", "h-2", "h-4", "h-1"]);
      expect(newOrder).toEqual(oldOrder);
    } finally {
      await db.close();
    }
  });
});

describe("Postgres start-up", () => {
  test("three instances opening one new database at once: it is migrated once, no error, and they share one key", async () => {
    const url = await pg.freshDatabase("three");
    // A passphrase key gets its salt from the database: instances that raced would each draw their own.
    const opened = await Promise.all([openPg(url), openPg(url), openPg(url)]);
    try {
      for (const db of opened) expect(await schemaVersion(db.executor)).toBe(MIGRATIONS.length);
      const sealed = opened[0]!.box.seal("shared secret", "probe");
      for (const db of opened) expect(db.box.open(sealed, "probe")).toBe("shared secret");
      const meta = await opened[1]!.executor.all("SELECT key FROM settings WHERE key = 'secret_key_meta'");
      expect(meta.length).toBe(1);
      // Start-up work under the lock runs one instance at a time.
      let inside = 0;
      let most = 0;
      await Promise.all(
        opened.map((db) =>
          db.withStartupLock(async () => {
            most = Math.max(most, ++inside);
            await db.executor.get("SELECT pg_sleep(0.05)");
            inside--;
          }),
        ),
      );
      expect(most).toBe(1);
    } finally {
      await Promise.all(opened.map((db) => db.close()));
    }
  });

  test("without DS2API_SECRET_KEY: a clear error naming it, nothing created", async () => {
    const url = withPassword(await pg.freshDatabase("nokey"));
    const err = await failure(openPgWithoutKey(url));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain("DS2API_SECRET_KEY is required with DS2API_DATABASE_URL");
    expect(err.message).not.toContain("hunter2-secret");
    const x = await openPgExecutor(url);
    try {
      expect(await schemaVersion(x)).toBe(0);
    } finally {
      await x.close();
    }
  });

  test("with the wrong key: the same 'wrong secret key' error as sqlite, nothing changed", async () => {
    const url = withPassword(await pg.freshDatabase("wrongkey"));
    await (await openPg(url)).close();
    const err = await failure(openPg(url, OTHER_KEY));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toContain("does not open the secrets in");
    expect(err.message).toContain("it was encrypted with another key");
    expect(err.message).not.toContain("hunter2-secret");
    // The right key still opens it.
    await (await openPg(url)).close();
  });

  test("an unreachable server: DependencyUnavailableError at once (refused, not the connect timeout), no password in it", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const url = `postgres://ds2:hunter2-secret@127.0.0.1:${port}/nothing`;
    const outcome = await Promise.race([failure(openPg(url)), Bun.sleep(1000).then(() => "still waiting after 1 s" as const)]);
    expect(outcome).toBeInstanceOf(DependencyUnavailableError);
    const err = outcome as DependencyUnavailableError;
    expect(err.dependency).toBe("database");
    expect(err.message).toContain("connection refused");
    expect(err.message).not.toContain("hunter2-secret");
  });
});

/** A TCP relay to the test server that can be cut (every connection dropped, the port closed) and brought back on the same port. */
async function cuttableRelay(targetPort: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer((client) => {
        const upstream = createConnection(targetPort, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      srv.once("error", reject);
      srv.listen(port, "127.0.0.1", () => {
        server = srv;
        resolve((srv.address() as { port: number }).port);
      });
    });
  const cut = async () => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  const port = await listen(0);
  const stop = trackStop("postgres relay", cut);
  return { port, cut, restore: async () => void (await listen(port)), stop };
}

describe("Postgres going away while running", () => {
  test("queries fail with DependencyUnavailableError while it is unreachable, and work again once it is back", async () => {
    const url = await pg.freshDatabase("away");
    const relay = await cuttableRelay(pg.port);
    const x = await openPgExecutor(url.replace(`:${pg.port}/`, `:${relay.port}/`));
    try {
      await x.exec("CREATE TABLE t (n BIGINT)");
      await x.run("INSERT INTO t(n) VALUES(?)", [1]);
      await relay.cut();
      for (let i = 0; i < 2; i++) {
        // The first call meets the dropped connection, the next one a refused connect.
        const err = await failure(x.get("SELECT COUNT(*) AS c FROM t"));
        expect(err).toBeInstanceOf(DependencyUnavailableError);
        expect(err.message).toMatch(/^database unreachable \(127\.0\.0\.1:\d+\/away_[\w]+\): connection (closed|refused)$/);
      }
      const inTx = await failure(x.transaction((tx) => tx.run("INSERT INTO t(n) VALUES(?)", [2])));
      expect(inTx).toBeInstanceOf(DependencyUnavailableError);
      await relay.restore();
      // The pool reconnects by itself (a connection it had not yet seen closing may fail one more call first).
      await waitUntil(async () => (await x.get("SELECT 1 AS one").catch(() => undefined)) !== undefined, "queries to work again");
      expect(await x.get("SELECT COUNT(*) AS c FROM t")).toEqual({ c: 1 });
    } finally {
      await x.close();
      await relay.stop();
    }
  });
});
