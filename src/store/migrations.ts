/**
 * Versioned schema migrations, applied in order inside one transaction each.
 * `PRAGMA user_version` records how many have run. Append only: never edit a released migration.
 */
export const MIGRATIONS: readonly string[] = [
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
];
