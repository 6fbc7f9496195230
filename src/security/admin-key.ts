/**
 * The admin secret(s).
 *
 * - `DS2API_ADMIN_KEY`, when set, always works: a console password never replaces it.
 * - A console password (`admin.password_hash`, set in the console or imported from config.json) is an
 *   additional credential. New ones are stored as argon2id (Bun.password); legacy Go-style values
 *   (`sha256:<hex>`, or a plaintext password) are still accepted and upgraded to argon2id on the first
 *   successful login.
 * - Without both, a key generated on first start works (only its SHA-256 is stored; it is printed once).
 *   It is retired once a console password exists.
 */
import { randomBytes } from "node:crypto";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { Store } from "../store/store.ts";
import { secretsEqual, sha256Hex } from "./secret-compare.ts";

const GENERATED_KEY_SETTING = "admin_generated_key_sha256";
export const MIN_PASSWORD_LENGTH = 12;

export type AdminKeySource = "password" | "env" | "generated";

interface AdminSection {
  password_hash?: string;
}

/** argon2id with the OWASP-recommended cost (19 MiB, 2 passes): a login stays well under a second on small hosts. */
export const ARGON2_OPTIONS = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

/** argon2id hash of a console password (off the event loop). */
export function hashAdminPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2_OPTIONS);
}

export function isModernHash(hash: string): boolean {
  return hash.startsWith("$argon2");
}

export class AdminKey {
  constructor(
    private readonly store: Store,
    private readonly envKey: string | undefined,
  ) {}

  /** Make sure some admin secret exists. Returns the freshly generated key when one had to be made. */
  ensure(): { generatedKey?: string } {
    if (this.envKey || this.passwordHash()) return {};
    if (this.store.settings.get<string>(GENERATED_KEY_SETTING)) return {};
    const key = `ds2-admin-${randomBytes(18).toString("base64url")}`;
    this.store.settings.set(GENERATED_KEY_SETTING, sha256Hex(key));
    return { generatedKey: key };
  }

  /** The primary credential: the env key when set, else the console password, else the generated key. */
  source(): AdminKeySource {
    if (this.envKey) return "env";
    if (this.passwordHash()) return "password";
    return "generated";
  }

  /** Every credential that is accepted now. */
  accepted(): AdminKeySource[] {
    const out: AdminKeySource[] = [];
    if (this.envKey) out.push("env");
    if (this.passwordHash()) out.push("password");
    if (!out.length) out.push("generated");
    return out;
  }

  /** One sentence for the start-up log and the settings view. */
  describe(): string {
    const env = Boolean(this.envKey);
    const pw = Boolean(this.passwordHash());
    if (env && pw) return "admin login: DS2API_ADMIN_KEY and the console password are both accepted (the console password never replaces the env key)";
    if (env) return "admin login: DS2API_ADMIN_KEY; a console password, if set, is accepted in addition to it";
    if (pw) return "admin login: the console password (the generated first-start key is retired)";
    return "admin login: the key generated on first start; set DS2API_ADMIN_KEY or a console password to choose your own";
  }

  private passwordHash(): string | undefined {
    return this.store.settings.get<AdminSection>(SETTING_KEYS.admin)?.password_hash || undefined;
  }

  /** Store a console password hash made by hashAdminPassword. Length rules are the caller's. */
  setPasswordHash(hash: string): void {
    this.store.settings.set(SETTING_KEYS.admin, { ...(this.store.settings.get<object>(SETTING_KEYS.admin) ?? {}), password_hash: hash });
  }

  /** Check a candidate against every accepted credential (each comparison constant-time). */
  async verify(candidate: string | undefined | null): Promise<boolean> {
    if (!candidate) return false;
    // The env key is checked first; argon2 runs only when it does not match.
    if (this.envKey && secretsEqual(candidate, this.envKey)) return true;
    let ok = false;
    const hash = this.passwordHash();
    if (hash && (await this.checkPassword(candidate, hash))) ok = true;
    if (!this.envKey && !hash) {
      const stored = this.store.settings.get<string>(GENERATED_KEY_SETTING);
      if (stored && secretsEqual(sha256Hex(candidate), stored)) ok = true;
    }
    return ok;
  }

  private async checkPassword(candidate: string, hash: string): Promise<boolean> {
    if (isModernHash(hash)) {
      try {
        return await Bun.password.verify(candidate, hash);
      } catch {
        return false;
      }
    }
    const legacy = hash.startsWith("sha256:") ? secretsEqual(sha256Hex(candidate), hash.slice(7).toLowerCase()) : secretsEqual(candidate, hash);
    if (legacy) this.setPasswordHash(await hashAdminPassword(candidate)); // upgrade the unsalted / plaintext value to argon2id
    return legacy;
  }
}
