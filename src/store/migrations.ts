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
];
