/**
 * The one seam between the repositories and a SQL engine: bun:sqlite (the default, one file) or Postgres
 * (Bun.SQL, several instances). Statements use `?` placeholders only; the Postgres executor renumbers them.
 * Every bigint in a row comes back as a number (Postgres int8 / COUNT / SUM arrive as strings or BigInt).
 */
export type SqlValue = string | number | null | Uint8Array;

export type SqlDialect = "sqlite" | "postgres";

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Several statements without parameters (DDL). */
  exec(sql: string): Promise<void>;
  hasTable(name: string): Promise<boolean>;
  /**
   * Run `fn` on one connection inside BEGIN … COMMIT (ROLLBACK when it throws). Bodies do store work only — no
   * network calls — so a transaction is short; on sqlite, root calls wait while one is open.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
