/** Key → JSON value settings. */
import type { Database } from "bun:sqlite";

export class SettingsRepo {
  constructor(private readonly db: Database) {}

  get<T>(key: string): T | undefined {
    const row = this.db.query("SELECT value FROM settings WHERE key = ?").get(key) as { value: string } | null;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    this.db.query("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, JSON.stringify(value));
  }

  delete(key: string): void {
    this.db.query("DELETE FROM settings WHERE key = ?").run(key);
  }

  all(): Record<string, unknown> {
    const rows = this.db.query("SELECT key, value FROM settings ORDER BY key").all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }
}
