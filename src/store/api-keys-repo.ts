/** Client API keys (the `keys` / `api_keys` of a ds2api config). */
import type { Database } from "bun:sqlite";

export interface ApiKeyRecord {
  key: string;
  name?: string;
  remark?: string;
  createdAt: number;
}

interface Row {
  key: string;
  name: string | null;
  remark: string | null;
  created_at: number;
}

const toRecord = (r: Row): ApiKeyRecord => ({ key: r.key, name: r.name ?? undefined, remark: r.remark ?? undefined, createdAt: r.created_at });

export class ApiKeysRepo {
  constructor(private readonly db: Database) {}

  list(): ApiKeyRecord[] {
    return (this.db.query("SELECT key, name, remark, created_at FROM api_keys ORDER BY sort_order").all() as Row[]).map(toRecord);
  }

  get(key: string): ApiKeyRecord | undefined {
    const row = this.db.query("SELECT key, name, remark, created_at FROM api_keys WHERE key = ?").get(key) as Row | null;
    return row ? toRecord(row) : undefined;
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM api_keys").get() as { n: number }).n;
  }

  /** Insert, or update name/remark of an existing key when given. Returns true when the key is new. */
  upsert(entry: { key: string; name?: string; remark?: string }): boolean {
    const existing = this.get(entry.key);
    if (existing) {
      this.db
        .query("UPDATE api_keys SET name = COALESCE(?, name), remark = COALESCE(?, remark) WHERE key = ?")
        .run(entry.name ?? null, entry.remark ?? null, entry.key);
      return false;
    }
    const next = (this.db.query("SELECT COALESCE(MAX(sort_order), 0) + 1 AS n FROM api_keys").get() as { n: number }).n;
    this.db
      .query("INSERT INTO api_keys(key, name, remark, created_at, sort_order) VALUES(?, ?, ?, ?, ?)")
      .run(entry.key, entry.name ?? null, entry.remark ?? null, Date.now(), next);
    return true;
  }

  update(key: string, fields: { name?: string | null; remark?: string | null }): boolean {
    const existing = this.get(key);
    if (!existing) return false;
    const name = fields.name === undefined ? existing.name ?? null : fields.name;
    const remark = fields.remark === undefined ? existing.remark ?? null : fields.remark;
    this.db.query("UPDATE api_keys SET name = ?, remark = ? WHERE key = ?").run(name, remark, key);
    return true;
  }

  delete(key: string): boolean {
    return this.db.query("DELETE FROM api_keys WHERE key = ?").run(key).changes > 0;
  }

  deleteAll(): void {
    this.db.exec("DELETE FROM api_keys");
  }
}
