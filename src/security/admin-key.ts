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
import { changedIds, type ChangeSubscriber } from "../core/changes/change-bus.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
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

/** The stored admin secrets this class reads (what `load` keeps in memory). */
interface StoredAdminSecrets {
  passwordHash?: string;
  generatedKeyHash?: string;
}

async function readSecrets(store: Pick<StoreRepos, "settings">): Promise<StoredAdminSecrets> {
  const [admin, generated] = await Promise.all([store.settings.get<AdminSection>(SETTING_KEYS.admin), store.settings.get<string>(GENERATED_KEY_SETTING)]);
  return { passwordHash: admin?.password_hash || undefined, generatedKeyHash: generated || undefined };
}

/**
 * The stored secrets are read once at start (`load`) and kept in memory, so checking a request's credential never
 * waits on the store; `reload` (on a `settings.changed` event, see `follow`) picks up a change made elsewhere
 * (a console password set through the admin API, a config import, another instance).
 */
export class AdminKey {
  private constructor(
    private readonly store: StoreApi,
    private readonly envKey: string | undefined,
    private secrets: StoredAdminSecrets,
  ) {}

  static async load(store: StoreApi, envKey: string | undefined): Promise<AdminKey> {
    return new AdminKey(store, envKey, await readSecrets(store));
  }

  /** Re-read the stored secrets (after a change made through another path or instance). */
  async reload(): Promise<void> {
    this.secrets = await readSecrets(this.store);
  }

  /** Reload on every settings change that may touch the admin secrets (all of them when the event names none). */
  follow(bus: ChangeSubscriber): () => void {
    return bus.subscribe(["settings.changed"], (events) => {
      const changed = changedIds(events);
      if (changed && !changed.ids.has(SETTING_KEYS.admin) && !changed.ids.has(GENERATED_KEY_SETTING)) return;
      return this.reload();
    });
  }

  /**
   * Make sure some admin secret exists (call it under the store's start-up lock, so instances starting together
   * agree on one generated key). Returns the freshly generated key when one had to be made.
   */
  async ensure(): Promise<{ generatedKey?: string }> {
    await this.reload();
    if (this.envKey || this.secrets.passwordHash || this.secrets.generatedKeyHash) return {};
    const key = `ds2-admin-${randomBytes(18).toString("base64url")}`;
    const hash = sha256Hex(key);
    await this.store.settings.set(GENERATED_KEY_SETTING, hash);
    this.secrets = { ...this.secrets, generatedKeyHash: hash };
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
    return this.secrets.passwordHash;
  }

  /**
   * Store a console password hash made by hashAdminPassword. Length rules are the caller's. Given `tx` (a
   * transaction's repositories) it writes there and the in-memory copy follows once the caller has committed and
   * published `settings.changed` for `admin` (see `follow`); without, it writes at once and updates the copy.
   */
  async setPasswordHash(hash: string, tx?: Pick<StoreRepos, "settings">): Promise<void> {
    const via = tx ?? this.store;
    await via.settings.set(SETTING_KEYS.admin, { ...((await via.settings.get<object>(SETTING_KEYS.admin)) ?? {}), password_hash: hash });
    if (!tx) this.secrets = { ...this.secrets, passwordHash: hash };
  }

  /** Check a candidate against every accepted credential (each comparison constant-time). Reads memory only. */
  async verify(candidate: string | undefined | null): Promise<boolean> {
    if (!candidate) return false;
    // The env key is checked first; argon2 runs only when it does not match.
    if (this.envKey && secretsEqual(candidate, this.envKey)) return true;
    let ok = false;
    const hash = this.passwordHash();
    if (hash && (await this.checkPassword(candidate, hash))) ok = true;
    if (!this.envKey && !hash) {
      const stored = this.secrets.generatedKeyHash;
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
    if (legacy) await this.setPasswordHash(await hashAdminPassword(candidate)); // upgrade the unsalted / plaintext value to argon2id
    return legacy;
  }
}
