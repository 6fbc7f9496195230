/**
 * Client API keys (the `keys` / `api_keys` of a ds2api config). Only a keyed hash of each key is stored
 * (HMAC-SHA-256, src/store/secret-box.ts), with a public id and a masked preview for lists; the key itself
 * is shown once, when it is created, and cannot be read back. Usage and quota rows are keyed by the hash.
 */
import type { Database } from "bun:sqlite";
import type { SecretBox } from "./secret-box.ts";

export interface ApiKeyRecord {
  /** HMAC of the key: its identity in the database and in usage counters. */
  hash: string;
  /** Public id (`k_` + 12 hex of the hash). */
  id: string;
  /** `ab****yz` */
  preview: string;
  name?: string;
  remark?: string;
  createdAt: number;
}

interface Row {
  key_hash: string;
  key_id: string;
  preview: string;
  name: string | null;
  remark: string | null;
  created_at: number;
}

const toRecord = (r: Row): ApiKeyRecord => ({ hash: r.key_hash, id: r.key_id, preview: r.preview, name: r.name ?? undefined, remark: r.remark ?? undefined, createdAt: r.created_at });

/** `ab****yz` style preview; short keys become all stars. */
export function previewOf(key: string): string {
  if (key.length <= 4) return "*".repeat(key.length);
  return `${key.slice(0, 2)}****${key.slice(-2)}`;
}

export const keyIdOf = (hash: string) => `k_${hash.slice(0, 12)}`;

const COLUMNS = "key_hash, key_id, preview, name, remark, created_at";

export class ApiKeysRepo {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  /** The stored identity of a raw key (whether or not it is configured). */
  hashOf(key: string): string {
    return this.box.hashApiKey(key);
  }

  list(): ApiKeyRecord[] {
    return (this.db.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY sort_order`).all() as Row[]).map(toRecord);
  }

  /** By hash. */
  get(hash: string): ApiKeyRecord | undefined {
    const row = this.db.query(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = ?`).get(hash) as Row | null;
    return row ? toRecord(row) : undefined;
  }

  /** By raw key. */
  find(key: string): ApiKeyRecord | undefined {
    return this.get(this.hashOf(key));
  }

  byId(id: string): ApiKeyRecord | undefined {
    const row = this.db.query(`SELECT ${COLUMNS} FROM api_keys WHERE key_id = ?`).get(id) as Row | null;
    return row ? toRecord(row) : undefined;
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM api_keys").get() as { n: number }).n;
  }

  /** Insert a raw key, or update name/remark of an existing one when given. Returns true when the key is new. */
  upsert(entry: { key: string; name?: string; remark?: string }): boolean {
    const hash = this.hashOf(entry.key);
    if (this.get(hash)) {
      this.db.query("UPDATE api_keys SET name = COALESCE(?, name), remark = COALESCE(?, remark) WHERE key_hash = ?").run(entry.name ?? null, entry.remark ?? null, hash);
      return false;
    }
    this.insertHashed(hash, previewOf(entry.key), entry.name, entry.remark, Date.now());
    return true;
  }

  /** Insert an already hashed key (migrations). */
  insertHashed(hash: string, preview: string, name: string | undefined, remark: string | undefined, createdAt: number): void {
    const next = (this.db.query("SELECT COALESCE(MAX(sort_order), 0) + 1 AS n FROM api_keys").get() as { n: number }).n;
    this.db
      .query("INSERT INTO api_keys(key_hash, key_id, preview, name, remark, created_at, sort_order) VALUES(?, ?, ?, ?, ?, ?, ?)")
      .run(hash, keyIdOf(hash), preview, name ?? null, remark ?? null, createdAt, next);
  }

  update(hash: string, fields: { name?: string | null; remark?: string | null }): boolean {
    const existing = this.get(hash);
    if (!existing) return false;
    const name = fields.name === undefined ? existing.name ?? null : fields.name;
    const remark = fields.remark === undefined ? existing.remark ?? null : fields.remark;
    this.db.query("UPDATE api_keys SET name = ?, remark = ? WHERE key_hash = ?").run(name, remark, hash);
    return true;
  }

  delete(hash: string): boolean {
    return this.db.query("DELETE FROM api_keys WHERE key_hash = ?").run(hash).changes > 0;
  }

  deleteAll(): void {
    this.db.exec("DELETE FROM api_keys");
  }
}
