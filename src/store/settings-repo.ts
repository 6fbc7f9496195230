/**
 * Key → JSON value settings. Secret parts are sealed on write and opened on read, so callers see plain
 * values: the JWT secret, proxy passwords, the Vercel token. A plaintext console password (Go config
 * style `admin.password_hash`) is turned into an argon2id hash on write. Values are JSON text on both engines.
 */
import type { SecretBox } from "./secret-box.ts";
import { concealSetting, revealSetting } from "./setting-secrets.ts";
import type { SqlExecutor } from "./sql/executor.ts";

export { hashIfPlainPassword } from "./setting-secrets.ts";

export class SettingsRepo {
  constructor(
    private readonly x: SqlExecutor,
    private readonly box: SecretBox,
  ) {}

  /** The stored form of a setting value (secrets sealed). Pure: no I/O. */
  conceal(key: string, value: unknown): unknown {
    return concealSetting(this.box, key, value);
  }

  private reveal(key: string, value: unknown): unknown {
    return revealSetting(this.box, key, value);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.x.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", [key]);
    return row ? (this.reveal(key, JSON.parse(row.value)) as T) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    if (value === undefined) {
      await this.delete(key);
      return;
    }
    await this.x.run("INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, JSON.stringify(this.conceal(key, value))]);
  }

  async delete(key: string): Promise<void> {
    await this.x.run("DELETE FROM settings WHERE key = ?", [key]);
  }

  async all(): Promise<Record<string, unknown>> {
    const rows = await this.x.all<{ key: string; value: string }>("SELECT key, value FROM settings ORDER BY key");
    return Object.fromEntries(rows.map((r) => [r.key, this.reveal(r.key, JSON.parse(r.value))]));
  }
}
