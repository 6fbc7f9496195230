/**
 * Key → JSON value settings. Secret parts are sealed on write and opened on read, so callers see plain
 * values: the JWT secret, proxy passwords, the Vercel token. A plaintext console password (Go config
 * style `admin.password_hash`) is turned into an argon2id hash on write.
 */
import type { Database } from "bun:sqlite";
import { SecretBox } from "./secret-box.ts";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** argon2id for anything that is not already a hash this build understands. */
export function hashIfPlainPassword(value: unknown): unknown {
  if (typeof value !== "string" || !value || value.startsWith("$argon2") || value.startsWith("sha256:")) return value;
  return Bun.password.hashSync(value, { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 });
}

export class SettingsRepo {
  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  /** The stored form of a setting value (secrets sealed). */
  conceal(key: string, value: unknown): unknown {
    const box = this.box;
    if (key === "admin_jwt_secret" && typeof value === "string") return SecretBox.isSealed(value) ? value : box.seal(value, "settings.admin_jwt_secret");
    if (key === "proxies" && Array.isArray(value)) {
      return value.map((p) => (isObj(p) && typeof p.password === "string" && p.password && !SecretBox.isSealed(p.password) ? { ...p, password: box.seal(p.password, "settings.proxies.password") } : p));
    }
    if (key === "section.vercel" && isObj(value) && typeof value.token === "string" && value.token && !SecretBox.isSealed(value.token)) {
      return { ...value, token: box.seal(value.token, "settings.vercel.token") };
    }
    if (key === "admin" && isObj(value) && value.password_hash !== undefined) return { ...value, password_hash: hashIfPlainPassword(value.password_hash) };
    if (key.startsWith("provider.") && isObj(value) && typeof value.authorization === "string" && value.authorization && !SecretBox.isSealed(value.authorization)) {
      return { ...value, authorization: box.seal(value.authorization, `settings.${key}.authorization`) };
    }
    return value;
  }

  private reveal(key: string, value: unknown): unknown {
    const box = this.box;
    if (key === "admin_jwt_secret" && typeof value === "string") return box.open(value, "settings.admin_jwt_secret");
    if (key === "proxies" && Array.isArray(value)) {
      return value.map((p) => (isObj(p) && typeof p.password === "string" ? { ...p, password: box.open(p.password, "settings.proxies.password") } : p));
    }
    if (key === "section.vercel" && isObj(value) && typeof value.token === "string") return { ...value, token: box.open(value.token, "settings.vercel.token") };
    if (key.startsWith("provider.") && isObj(value) && typeof value.authorization === "string") return { ...value, authorization: box.open(value.authorization, `settings.${key}.authorization`) };
    return value;
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
