/**
 * The admin secret. Precedence: a password set through the admin API or config (`admin.password_hash`,
 * `sha256:<hex>` or plaintext as in the Go ds2api) > DS2API_ADMIN_KEY > a key generated on first start
 * (only its SHA-256 is stored; the key itself is printed once).
 */
import { randomBytes } from "node:crypto";
import { SETTING_KEYS } from "../config/config-sync.ts";
import type { Store } from "../store/store.ts";
import { secretsEqual, sha256Hex } from "./secret-compare.ts";

const GENERATED_KEY_SETTING = "admin_generated_key_sha256";

export type AdminKeySource = "password" | "env" | "generated";

export class AdminKey {
  constructor(
    private readonly store: Store,
    private readonly envKey: string | undefined,
  ) {}

  /** Make sure some admin secret exists. Returns the freshly generated key when one had to be made. */
  ensure(): { generatedKey?: string } {
    if (this.source() !== "generated") return {};
    if (this.store.settings.get<string>(GENERATED_KEY_SETTING)) return {};
    const key = `ds2-admin-${randomBytes(18).toString("base64url")}`;
    this.store.settings.set(GENERATED_KEY_SETTING, sha256Hex(key));
    return { generatedKey: key };
  }

  source(): AdminKeySource {
    if (this.passwordHash()) return "password";
    if (this.envKey) return "env";
    return "generated";
  }

  private passwordHash(): string | undefined {
    return this.store.settings.get<{ password_hash?: string }>(SETTING_KEYS.admin)?.password_hash || undefined;
  }

  verify(candidate: string | undefined | null): boolean {
    if (!candidate) return false;
    const hash = this.passwordHash();
    if (hash) {
      if (hash.startsWith("sha256:")) return secretsEqual(sha256Hex(candidate), hash.slice(7).toLowerCase());
      return secretsEqual(candidate, hash);
    }
    if (this.envKey) return secretsEqual(candidate, this.envKey);
    const stored = this.store.settings.get<string>(GENERATED_KEY_SETTING);
    return stored ? secretsEqual(sha256Hex(candidate), stored) : false;
  }
}
