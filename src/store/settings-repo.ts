/**
 * Key → JSON value settings. Secret parts are sealed on write and opened on read, so callers see plain
 * values: the JWT secret, proxy passwords, the Vercel token. A plaintext console password (Go config
 * style `admin.password_hash`) is turned into an argon2id hash on write.
 */
import type { Database } from "bun:sqlite";
import type { SecretBox } from "./secret-box.ts";
import { concealSetting, revealSetting } from "./setting-secrets.ts";

export { hashIfPlainPassword } from "./setting-secrets.ts";

export class SettingsRepo {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  /** The stored form of a setting value (secrets sealed). */
  conceal(key: string, value: unknown): unknown {
    return concealSetting(this.box, key, value);
  }

  private reveal(key: string, value: unknown): unknown {
    return revealSetting(this.box, key, value);
  }

  get<T>(key: string): T | undefined {
    const row = this.db.query("SELECT value FROM settings WHERE key = ?").get(key) as { value: string } | null;
    return row ? (this.reveal(key, JSON.parse(row.value)) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    this.db
      .query("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(key, JSON.stringify(this.conceal(key, value)));
  }

  delete(key: string): void {
    this.db.query("DELETE FROM settings WHERE key = ?").run(key);
  }

  all(): Record<string, unknown> {
    const rows = this.db.query("SELECT key, value FROM settings ORDER BY key").all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, this.reveal(r.key, JSON.parse(r.value))]));
  }
}
