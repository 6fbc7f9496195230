/**
 * The master key for secrets at rest, kept outside the database:
 * - `DS2API_SECRET_KEY`: 32 bytes as base64 or hex, or a passphrase (at least 16 characters) stretched with
 *   scrypt (its salt is stored in the database);
 * - else the key file `<db>.key` beside the database (base64, mode 0600), created on first start.
 * The database keeps a check value sealed with the key, so a wrong or missing key stops the start with one
 * clear message and nothing is changed or overwritten.
 * On Postgres (a database URL) there is no file beside the database: DS2API_SECRET_KEY is required, the same for
 * every instance.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { randomBytes, scryptSync } from "node:crypto";
import { SecretBox } from "./secret-box.ts";
import type { SqlExecutor } from "./sql/executor.ts";
import { StoreError } from "./store-error.ts";

export const KEY_META_SETTING = "secret_key_meta";
const CHECK_FIELD = "secret-key-check";
const CHECK_PLAIN = "ds2api secret key check v1";
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const MIN_PASSPHRASE = 16;

interface KeyMeta {
  v: 1;
  kdf: "raw" | "scrypt";
  salt?: string;
  check: string;
}

export interface ResolvedKey {
  box: SecretBox;
  /** Where the key came from, for messages. */
  origin: string;
  /** Record the check value (and KDF salt) once the settings table exists; no-op when already there. */
  persist(x: SqlExecutor): Promise<void>;
}

/** Where the key may come from besides DS2API_SECRET_KEY. */
export interface KeySource {
  /** The database, for messages: a file path, or a URL with its password masked. */
  location: string;
  /** sqlite file: `<file>.key` beside it; ":memory:": a random key; Postgres: none (DS2API_SECRET_KEY required). */
  keyFile?: string;
  memory?: boolean;
}

/** DS2API_SECRET_KEY is missing where no key file can exist (a database URL). */
export function secretKeyRequired(location: string): StoreError {
  return new StoreError(
    `DS2API_SECRET_KEY is required with DS2API_DATABASE_URL (${location}): there is no key file beside a database URL, and every instance must use the same key. Set it to 32 bytes as base64 or hex, or a passphrase of at least ${MIN_PASSPHRASE} characters.`,
  );
}

async function readMeta(x: SqlExecutor): Promise<KeyMeta | undefined> {
  if (!(await x.hasTable("settings"))) return undefined;
  const row = await x.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", [KEY_META_SETTING]);
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as KeyMeta;
  } catch {
    throw new StoreError(`the secret-key record in the database is damaged; nothing was changed`);
  }
}

/** 32 raw bytes from hex or base64, else undefined (a passphrase). */
function rawKey(text: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const b = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (b.length === 32) return b;
  }
  return undefined;
}

function writeKeyFile(file: string, key: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${key.toString("base64")}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  chmodSync(file, 0o600);
}

function readKeyFile(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new StoreError(`cannot read the secret key file ${file}: ${(e as Error).message}`);
  }
  const key = rawKey(text);
  if (!key) throw new StoreError(`the secret key file ${file} does not hold a key (expected base64 of 32 bytes); nothing was changed`);
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch {
    // best effort
  }
  return key;
}

export async function resolveSecretKey(x: SqlExecutor, source: KeySource, envSecret: string | undefined): Promise<ResolvedKey> {
  if (!envSecret && !source.keyFile && !source.memory) throw secretKeyRequired(source.location);
  const meta = await readMeta(x);
  let master: Buffer;
  let kdf: KeyMeta["kdf"] = "raw";
  let salt: string | undefined;
  let origin: string;
  const dbFile = source.location;
  const keyFile = source.keyFile ?? "";
  if (envSecret) {
    origin = "DS2API_SECRET_KEY";
    const raw = rawKey(envSecret);
    if (raw) master = raw;
    else {
      if (envSecret.length < MIN_PASSPHRASE) throw new StoreError(`DS2API_SECRET_KEY must be 32 bytes as base64 or hex, or a passphrase of at least ${MIN_PASSPHRASE} characters`);
      kdf = "scrypt";
      salt = meta?.kdf === "scrypt" && meta.salt ? meta.salt : randomBytes(16).toString("base64");
      master = scryptSync(envSecret, Buffer.from(salt, "base64"), 32, SCRYPT);
    }
  } else if (source.memory || !keyFile) {
    origin = "an in-memory key";
    master = randomBytes(32);
  } else {
    origin = `the key file ${keyFile}`;
    if (existsSync(keyFile)) master = readKeyFile(keyFile);
    else if (meta) {
      throw new StoreError(
        `the secrets in ${dbFile} are encrypted, but its key file ${keyFile} is missing and DS2API_SECRET_KEY is not set; restore the key file (or set DS2API_SECRET_KEY to the key it was created with). Nothing was changed.`,
      );
    } else {
      master = randomBytes(32);
      try {
        writeKeyFile(keyFile, master);
      } catch (e) {
        throw new StoreError(`cannot create the secret key file ${keyFile}: ${(e as Error).message}`);
      }
    }
  }
  const box = new SecretBox(master);
  if (meta && box.open(meta.check, CHECK_FIELD) !== CHECK_PLAIN) {
    throw new StoreError(
      `the secret key from ${origin} does not open the secrets in ${dbFile} (it was encrypted with another key); start with the key it was created with (${keyFile ? `DS2API_SECRET_KEY or ${keyFile}` : "DS2API_SECRET_KEY"}). Nothing was changed.`,
    );
  }
  return {
    box,
    origin,
    async persist(target: SqlExecutor) {
      if (await readMeta(target)) return;
      const record: KeyMeta = { v: 1, kdf, ...(salt ? { salt } : {}), check: box.seal(CHECK_PLAIN, CHECK_FIELD) };
      await target.run("INSERT INTO settings(key, value) VALUES(?, ?)", [KEY_META_SETTING, JSON.stringify(record)]);
    },
  };
}
