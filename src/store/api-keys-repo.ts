/**
 * Client API keys (the `keys` / `api_keys` of a ds2api config). Only a keyed hash of each key is stored
 * (HMAC-SHA-256, src/store/secret-box.ts), with a public id and a masked preview for lists; the key itself
 * is shown once, when it is created, and cannot be read back. Usage and quota rows are keyed by the hash.
 */
import type { SecretBox } from "./secret-box.ts";
import type { SqlExecutor } from "./sql/executor.ts";
import { assignments } from "./sql/assignments.ts";

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
    private readonly x: SqlExecutor,
    private readonly box: SecretBox,
  ) {}

  /** The stored identity of a raw key (whether or not it is configured). Pure: no I/O. */
  hashOf(key: string): string {
    return this.box.hashApiKey(key);
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.x.all<Row>(`SELECT ${COLUMNS} FROM api_keys ORDER BY sort_order`)).map(toRecord);
  }

  /** By hash. */
  async get(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.x.get<Row>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = ?`, [hash]);
    return row ? toRecord(row) : undefined;
  }

  /** By raw key. */
  find(key: string): Promise<ApiKeyRecord | undefined> {
    return this.get(this.hashOf(key));
  }

  async byId(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.x.get<Row>(`SELECT ${COLUMNS} FROM api_keys WHERE key_id = ?`, [id]);
    return row ? toRecord(row) : undefined;
  }

  async count(): Promise<number> {
    return (await this.x.get<{ n: number }>("SELECT COUNT(*) AS n FROM api_keys"))?.n ?? 0;
  }

  /**
   * Insert a raw key, or update name/remark of an existing one when given. Returns true when the key is new.
   * Insert first (ON CONFLICT DO NOTHING, any unique index: on Postgres two racing inserts of one key can collide on
   * key_id before key_hash): two concurrent upserts of one key, on one instance or two, create it once.
   */
  async upsert(entry: { key: string; name?: string; remark?: string }): Promise<boolean> {
    const hash = this.hashOf(entry.key);
    if (await this.insertRow(hash, previewOf(entry.key), entry.name, entry.remark, Date.now(), " ON CONFLICT DO NOTHING")) return true;
    await this.x.run("UPDATE api_keys SET name = COALESCE(?, name), remark = COALESCE(?, remark) WHERE key_hash = ?", [entry.name ?? null, entry.remark ?? null, hash]);
    return false;
  }

  /** Insert an already hashed key (imports of hashed keys); an existing hash is an error. */
  async insertHashed(hash: string, preview: string, name: string | undefined, remark: string | undefined, createdAt: number): Promise<void> {
    await this.insertRow(hash, preview, name, remark, createdAt, "");
  }

  private async insertRow(hash: string, preview: string, name: string | undefined, remark: string | undefined, createdAt: number, onConflict: string): Promise<boolean> {
    const r = await this.x.run(
      `INSERT INTO api_keys(key_hash, key_id, preview, name, remark, created_at, sort_order)
       VALUES(?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM api_keys))${onConflict}`,
      [hash, keyIdOf(hash), preview, name ?? null, remark ?? null, createdAt],
    );
    return r.changes > 0;
  }

  async update(hash: string, fields: { name?: string | null; remark?: string | null }): Promise<boolean> {
    const set = assignments({ name: fields.name, remark: fields.remark });
    // Nothing to change still tells whether the key exists.
    return (await this.x.run(`UPDATE api_keys SET ${set.sql || "key_hash = key_hash"} WHERE key_hash = ?`, [...set.params, hash])).changes > 0;
  }

  async delete(hash: string): Promise<boolean> {
    return (await this.x.run("DELETE FROM api_keys WHERE key_hash = ?", [hash])).changes > 0;
  }

  async deleteAll(): Promise<void> {
    await this.x.run("DELETE FROM api_keys");
  }
}
