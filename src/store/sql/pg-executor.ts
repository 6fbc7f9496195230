/**
 * `SqlExecutor` on Postgres through Bun.SQL (a pool, max 10 connections, 2 s to connect).
 *
 * - `?` placeholders are renumbered `$1…` (quoted strings, identifiers and comments are skipped);
 * - rows come back in sqlite's shapes: int8 / COUNT (BigInt with `bigint: true`) and numeric (SUM, a string) become
 *   numbers, booleans 1 / 0, bytea a plain Uint8Array;
 * - `transaction` is `sql.begin`: the body gets an executor bound to that connection, a nested transaction() runs
 *   in the same one;
 * - a connection-level failure (refused, reset, timeout, server shutting down) becomes
 *   `DependencyUnavailableError("database", …)` naming host and port only (never the URL or its password); SQL errors
 *   stay plain errors with the server's message.
 */
import { SQL } from "bun";
import { DependencyUnavailableError } from "../../core/cluster/ports.ts";
import type { SqlExecutor, SqlValue } from "./executor.ts";

/** Type OIDs that need converting (see https://github.com/postgres/postgres/blob/master/src/include/catalog/pg_type.dat). */
const OID = { bool: 16, int8: 20, numeric: 1700 } as const;

/** Bun's own codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  "ERR_POSTGRES_CONNECTION_CLOSED",
  "ERR_POSTGRES_CONNECTION_FAILED",
  "ERR_POSTGRES_CONNECTION_REFUSED",
  "ERR_POSTGRES_CONNECTION_TIMEOUT",
  "ERR_POSTGRES_IDLE_TIMEOUT",
  "ERR_POSTGRES_LIFETIME_TIMEOUT",
  "ERR_POSTGRES_TLS_NOT_AVAILABLE",
  "ERR_POSTGRES_TLS_UPGRADE_FAILED",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** SQLSTATEs that mean the server cannot serve now: connection exceptions (08…), shutting down / starting, too many connections. */
function unavailableState(state: string | undefined): boolean {
  return !!state && (state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03" || state === "53300");
}

function describeFailure(code: string | undefined, state: string | undefined): string {
  switch (code) {
    case "ERR_POSTGRES_CONNECTION_REFUSED":
    case "ECONNREFUSED":
      return "connection refused";
    case "ERR_POSTGRES_CONNECTION_TIMEOUT":
    case "ETIMEDOUT":
      return "connection timed out";
    case "ERR_POSTGRES_CONNECTION_CLOSED":
    case "ECONNRESET":
    case "EPIPE":
      return "connection closed";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
  }
  if (state === "57P01" || state === "57P02") return "the server is shutting down";
  if (state === "57P03") return "the server is starting up";
  if (state === "53300") return "too many connections";
  return code ?? state ?? "connection failed";
}

/** Where the database is, for messages: host:port/database, never the user or the password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "the configured database";
  }
}

/** The URL with its password replaced by `****`, for logs and /readyz. */
export function maskDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, "****");
    return u.toString();
  } catch {
    return "(unparseable database URL)";
  }
}

function withoutPassword(text: string, url: string): string {
  let pw = "";
  try {
    pw = decodeURIComponent(new URL(url).password);
  } catch {
    return "unparseable URL";
  }
  return pw ? text.split(pw).join("****").split(encodeURIComponent(pw)).join("****") : text;
}

/** True when `e` says the database cannot be reached (as opposed to a statement that failed). */
export function isConnectionFailure(e: unknown): boolean {
  if (e instanceof DependencyUnavailableError) return true;
  if (!e || typeof e !== "object") return false;
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  return (typeof code === "string" && CONNECTION_CODES.has(code)) || (typeof errno === "string" && unavailableState(errno));
}

function translate(e: unknown, target: string): unknown {
  if (e instanceof DependencyUnavailableError || !isConnectionFailure(e)) return e;
  const { code, errno } = e as { code?: string; errno?: string };
  return new DependencyUnavailableError("database", `database unreachable (${target}): ${describeFailure(code, errno)}`);
}

/** `?` → `$1…`, outside '…' strings, "…" identifiers, $tag$…$tag$ bodies and comments. */
export function numberPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let i = 0;
  const len = sql.length;
  while (i < len) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < len) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const j = sql.indexOf("\n", i);
      const end = j < 0 ? len : j;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "/" && sql[i + 1] === "*") {
      const j = sql.indexOf("*/", i + 2);
      const end = j < 0 ? len : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "$" && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64)) && !/[\w$]/.test(sql[i - 1] ?? "")) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0];
      const j = sql.indexOf(tag, i + tag.length);
      const end = j < 0 ? len : j + tag.length;
      out += sql.slice(i, end);
      i = end;
    } else if (c === "?") {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const placeholderCache = new Map<string, string>();
function numbered(sql: string): string {
  let out = placeholderCache.get(sql);
  if (out === undefined) {
    out = numberPlaceholders(sql);
    if (placeholderCache.size > 2000) placeholderCache.clear();
    placeholderCache.set(sql, out);
  }
  return out;
}

interface Column {
  name: string;
  type: number;
}
type Result = Record<string, unknown>[] & { count?: number | null; columns?: Column[] | null };

function plainValue(v: unknown, type: number | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (type === OID.numeric && typeof v === "string") return Number(v);
  if (type === OID.int8 && typeof v === "string") return Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Uint8Array && v.constructor !== Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

function plainRows<T>(rows: Result): T[] {
  const types = new Map<string, number>();
  for (const c of rows.columns ?? []) types.set(c.name, c.type);
  const out: T[] = [];
  for (const row of rows) {
    const r: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) r[k] = plainValue(v, types.get(k));
    out.push(r as T);
  }
  return out;
}

/** What a connection, the pool, a transaction or a reserved connection have in common. */
interface Runner {
  unsafe(sql: string, params?: readonly unknown[]): Promise<unknown>;
}

class PgScope implements SqlExecutor {
  readonly dialect = "postgres" as const;

  constructor(
    protected readonly runner: Runner,
    protected readonly target: string,
    private readonly begin: <T>(fn: (tx: SqlExecutor) => Promise<T>) => Promise<T>,
  ) {}

  protected async query(sql: string, params: readonly SqlValue[]): Promise<Result> {
    try {
      return (await this.runner.unsafe(numbered(sql), params)) as Result;
    } catch (e) {
      throw translate(e, this.target);
    }
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return plainRows<T>(await this.query(sql, params));
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return plainRows<T>(await this.query(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const r = await this.query(sql, params);
    return { changes: Number(r.count ?? 0) };
  }

  async exec(sql: string): Promise<void> {
    try {
      // No parameters: the simple query protocol, which runs several statements.
      await this.runner.unsafe(sql);
    } catch (e) {
      throw translate(e, this.target);
    }
  }

  async hasTable(name: string): Promise<boolean> {
    const row = await this.get<{ present: number }>("SELECT to_regclass(?) IS NOT NULL AS present", [name]);
    return row?.present === 1;
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.begin(fn);
  }

  async close(): Promise<void> {
    // Only the root executor owns the pool.
  }
}

/** The root executor: owns the pool; can also lend one reserved connection (session advisory locks). */
export class PgExecutor extends PgScope {
  constructor(
    private readonly sql: SQL,
    target: string,
  ) {
    super(sql, target, async (fn) => {
      try {
        return await sql.begin(async (tx) => {
          const inside: SqlExecutor = new PgScope(tx, target, (inner) => inner(inside));
          return fn(inside);
        });
      } catch (e) {
        throw translate(e, target);
      }
    });
  }

  /** Run `fn` with an executor on one connection of the pool, held for the whole call (not a transaction). */
  async reserved<T>(fn: (x: SqlExecutor) => Promise<T>): Promise<T> {
    let conn: Awaited<ReturnType<SQL["reserve"]>>;
    try {
      conn = await this.sql.reserve();
    } catch (e) {
      throw translate(e, this.target);
    }
    try {
      const scope: SqlExecutor = new PgScope(conn, this.target, () => Promise.reject(new Error("no transaction on a reserved connection")));
      return await fn(scope);
    } finally {
      conn.release();
    }
  }

  override async close(): Promise<void> {
    await this.sql.close({ timeout: 5 });
  }
}

export function isPgExecutor(x: SqlExecutor): x is PgExecutor {
  return x instanceof PgExecutor;
}

/**
 * Open a pool on `url` and check it answers (one `SELECT 1`): unreachable → DependencyUnavailableError, a bad
 * password or a missing database → a plain error with the server's message.
 */
export async function openPgExecutor(url: string, o: { max?: number; connectionTimeoutSeconds?: number } = {}): Promise<PgExecutor> {
  const target = describeTarget(url);
  let sql: SQL;
  try {
    sql = new SQL(url, { max: o.max ?? 10, connectionTimeout: o.connectionTimeoutSeconds ?? 2, bigint: true, idleTimeout: 60 });
  } catch (e) {
    throw new Error(`the database URL for ${target} is not usable: ${withoutPassword((e as Error).message, url)}`);
  }
  const x = new PgExecutor(sql, target);
  try {
    await x.get("SELECT 1 AS one");
  } catch (e) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw e;
  }
  return x;
}
