/**
 * Versioned schema migrations, one append-only list for sqlite and Postgres, applied in order by
 * src/store/sql/migrate-runner.ts, one transaction each (sqlite counts them in `PRAGMA user_version`, Postgres in
 * `ds2api_schema`). Append only: never edit a released migration.
 * A step is SQL in the sqlite dialect (run through `ddl()`, which rewrites it for Postgres and refuses sqlite-only
 * constructs), or code over the executor (`?` parameters, portable SQL) for data that must be transformed (it gets
 * the secret box).
 */
import { PASSWORD_FIELD, TOKEN_FIELD } from "./accounts-repo.ts";
import { keyIdOf, previewOf } from "./api-keys-repo.ts";
import { newDeviceId } from "./device-id.ts";
import { SecretBox } from "./secret-box.ts";
import { concealSetting } from "./setting-secrets.ts";
import { ddl } from "./sql/dialect.ts";
import type { SqlExecutor } from "./sql/executor.ts";

export interface MigrationContext {
  /** The database was empty before this run. */
  fresh: boolean;
  /** Record the secret-key check value (inside the same transaction). */
  persistKey(): Promise<void>;
}

export interface CodeStep {
  run(x: SqlExecutor, box: SecretBox, ctx: MigrationContext): Promise<void>;
}

export type MigrationStep = string | CodeStep;

/** Set by a migration that replaced plaintext in place; the opener then VACUUMs (sqlite) and clears it. */
export const VACUUM_PENDING_SETTING = "vacuum_pending";

/** Settings whose values hold secrets (sealed by SettingsRepo on write). */
const SECRET_SETTINGS = ["admin_jwt_secret", "proxies", "section.vercel", "admin"];

/** Schema statements inside a code step: the same portability rules as a SQL step. */
const schema = (x: SqlExecutor, sql: string) => x.exec(ddl(x.dialect, sql));

/**
 * 3: secrets at rest. Account passwords and DeepSeek tokens are sealed; API keys are replaced by their
 * keyed hash (with id and masked preview), in the usage/quota tables too; the JWT secret, proxy passwords
 * and the Vercel token are sealed; a plaintext console password becomes argon2id (an unsalted
 * `sha256:` one cannot be rehashed and is upgraded on the next successful login).
 */
const secretsAtRest: CodeStep = {
  async run(x, box, ctx) {
    await ctx.persistKey();
    await schema(
      x,
      `
  CREATE TABLE api_keys_hashed (
    key_hash    TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL,
    preview     TEXT NOT NULL,
    name        TEXT,
    remark      TEXT,
    created_at  INTEGER NOT NULL,
    sort_order  INTEGER NOT NULL
  );`,
    );
    const keys = await x.all<{ key: string; name: string | null; remark: string | null; created_at: number; sort_order: number }>(
      "SELECT key, name, remark, created_at, sort_order FROM api_keys ORDER BY sort_order",
    );
    for (const k of keys) {
      const hash = box.hashApiKey(k.key);
      await x.run("INSERT INTO api_keys_hashed(key_hash, key_id, preview, name, remark, created_at, sort_order) VALUES(?, ?, ?, ?, ?, ?, ?)", [
        hash,
        keyIdOf(hash),
        previewOf(k.key),
        k.name,
        k.remark,
        k.created_at,
        k.sort_order,
      ]);
    }
    await schema(x, "DROP TABLE api_keys; ALTER TABLE api_keys_hashed RENAME TO api_keys; CREATE UNIQUE INDEX api_keys_id ON api_keys(key_id);");
    for (const table of ["api_key_usage", "api_key_daily", "api_key_quotas"]) {
      const olds = await x.all<{ key: string }>(`SELECT DISTINCT key FROM ${table}`);
      for (const { key } of olds) await x.run(`UPDATE ${table} SET key = ? WHERE key = ?`, [box.hashApiKey(key), key]);
    }
    const accounts = await x.all<{ identifier: string; password: string | null; token: string | null }>("SELECT identifier, password, token FROM accounts");
    const seal = (v: string | null, field: string) => (v === null || SecretBox.isSealed(v) ? v : box.seal(v, field));
    for (const a of accounts) {
      await x.run("UPDATE accounts SET password = ?, token = ? WHERE identifier = ?", [seal(a.password, PASSWORD_FIELD), seal(a.token, TOKEN_FIELD), a.identifier]);
    }
    for (const key of SECRET_SETTINGS) {
      const row = await x.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", [key]);
      if (row) await x.run("UPDATE settings SET value = ? WHERE key = ?", [JSON.stringify(concealSetting(box, key, JSON.parse(row.value))), key]);
    }
    if (!ctx.fresh) {
      await x.run("INSERT INTO settings(key, value) VALUES(?, 'true') ON CONFLICT(key) DO UPDATE SET value = excluded.value", [VACUUM_PENDING_SETTING]);
    }
  },
};

/**
 * 7: one device per account. Every account gets its own login device id (issue 13): existing accounts a fresh
 * random one each, instead of the constant every install used to send for all of them.
 */
const deviceIdPerAccount: CodeStep = {
  async run(x) {
    await schema(x, "ALTER TABLE accounts ADD COLUMN device_id TEXT");
    const ids = await x.all<{ identifier: string }>("SELECT identifier FROM accounts");
    for (const { identifier } of ids) await x.run("UPDATE accounts SET device_id = ? WHERE identifier = ?", [newDeviceId(), identifier]);
  },
};

/**
 * 9: chat history order without rowid. `seq` breaks ties between turns created in the same millisecond (the list
 * is `created_at DESC, seq DESC`); inserts set it to the bumped list revision. Existing rows keep today's order:
 * on sqlite their insertion order (rowid); a Postgres database never held rows before this step, so the
 * revision (the same thing there) serves.
 */
const chatHistorySeq: CodeStep = {
  async run(x) {
    await schema(x, "ALTER TABLE chat_history ADD COLUMN seq INTEGER NOT NULL DEFAULT 0");
    // rowid exists on sqlite only: this backfill is the one dialect-specific statement, kept out of ddl().
    await x.run(x.dialect === "sqlite" ? "UPDATE chat_history SET seq = rowid" : "UPDATE chat_history SET seq = revision");
  },
};

export const MIGRATIONS: readonly MigrationStep[] = [
  // 1: settings, api keys, accounts
  `
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE api_keys (
    key         TEXT PRIMARY KEY,
    name        TEXT,
    remark      TEXT,
    created_at  INTEGER NOT NULL,
    sort_order  INTEGER NOT NULL
  );
  CREATE TABLE accounts (
    identifier      TEXT PRIMARY KEY,
    email           TEXT,
    mobile          TEXT,
    password        TEXT,
    name            TEXT,
    remark          TEXT,
    proxy_id        TEXT,
    token           TEXT,
    token_at        INTEGER,
    enabled         INTEGER NOT NULL DEFAULT 1,
    status          TEXT NOT NULL DEFAULT 'ok',
    status_reason   TEXT,
    cooldown_until  INTEGER,
    last_error      TEXT,
    last_error_at   INTEGER,
    last_used_at    INTEGER,
    request_count   INTEGER NOT NULL DEFAULT 0,
    extra           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sort_order      INTEGER NOT NULL
  );
  CREATE INDEX accounts_sort ON accounts(sort_order);
  `,
  // 2: per API key usage counters and quotas, daily token tallies, admin audit log
  `
  CREATE TABLE api_key_usage (
    key                TEXT PRIMARY KEY,
    requests           INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    last_used_at       INTEGER
  );
  CREATE TABLE api_key_daily (
    key     TEXT NOT NULL,
    day     TEXT NOT NULL,
    tokens  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, day)
  );
  CREATE TABLE api_key_quotas (
    key                  TEXT PRIMARY KEY,
    requests_per_minute  INTEGER,
    tokens_per_day       INTEGER
  );
  CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    address  TEXT,
    action   TEXT NOT NULL,
    target   TEXT,
    detail   TEXT
  );
  CREATE INDEX audit_log_action ON audit_log(action, id);
  `,
  secretsAtRest,
  // 4: more than one upstream. Every existing account is a DeepSeek account; key-style pools of other providers
  // (Volcengine web ids, OnDemand API keys) get one table keyed by (provider, id), secrets sealed by the repo.
  `
  ALTER TABLE accounts ADD COLUMN provider TEXT NOT NULL DEFAULT 'deepseek';
  CREATE INDEX accounts_provider ON accounts(provider, sort_order);
  CREATE TABLE provider_credentials (
    provider        TEXT NOT NULL,
    id              TEXT NOT NULL,
    secret          TEXT NOT NULL,
    auth            TEXT,
    preview         TEXT NOT NULL,
    label           TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1,
    max_usage       INTEGER,
    usage_count     INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'ok',
    state_reason    TEXT,
    cooldown_until  INTEGER,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_used_at    INTEGER,
    last_error      TEXT,
    last_error_at   INTEGER,
    meta            TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sort_order      INTEGER NOT NULL,
    PRIMARY KEY (provider, id)
  );
  `,
  // 5: files: which account holds each file uploaded through POST /v1/files (later requests are pinned to it).
  `
  CREATE TABLE uploaded_files (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    account     TEXT,
    caller      TEXT NOT NULL,
    filename    TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  );
  `,
  // 6: chat history (§12.6): one row per business turn; the summary in columns, the conversation as JSON.
  // `chat_history_rev` holds the one list revision every write bumps (ETags survive restarts).
  `
  CREATE TABLE chat_history (
    id             TEXT PRIMARY KEY,
    revision       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    completed_at   INTEGER,
    status         TEXT NOT NULL,
    caller_id      TEXT,
    account_id     TEXT,
    provider       TEXT,
    surface        TEXT,
    model          TEXT,
    stream         INTEGER NOT NULL DEFAULT 0,
    user_input     TEXT,
    preview        TEXT,
    status_code    INTEGER,
    elapsed_ms     INTEGER,
    finish_reason  TEXT,
    detail         TEXT NOT NULL
  );
  CREATE INDEX chat_history_created ON chat_history(created_at, id);
  CREATE TABLE chat_history_rev (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    rev  INTEGER NOT NULL
  );
  INSERT INTO chat_history_rev(id, rev) VALUES (1, 0);
  `,
  deviceIdPerAccount,
  // 8: usage history: finished business turns added up per time bucket (5-minute and hourly spans) and per
  // caller key id, account, provider and model (src/store/usage-history-repo.ts). Key ids only, never keys.
  `
  CREATE TABLE usage_buckets (
    span           INTEGER NOT NULL,
    bucket         INTEGER NOT NULL,
    key_id         TEXT NOT NULL,
    account        TEXT NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT NOT NULL,
    requests       INTEGER NOT NULL DEFAULT 0,
    errors         INTEGER NOT NULL DEFAULT 0,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    latency_ms     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (span, bucket, key_id, account, provider, model)
  ) WITHOUT ROWID;
  `,
  // 9: chat_history.seq (see above)
  chatHistorySeq,
];
