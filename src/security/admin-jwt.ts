/**
 * Admin session tokens: HS256 JWTs signed with @elysiajs/jwt. The secret is DS2API_JWT_SECRET when set,
 * else a random secret made on first use and kept in the settings table (never exported). A password
 * change moves the revocation cut-off (`admin.jwt_valid_after_unix`, plus a millisecond cut-off so a
 * token signed in the same second as the change is revoked too) and every older token stops working.
 * The secret and the revocation settings are read once at start (`AdminJwt.open`) and kept in memory: verifying a
 * token never waits on the store. `reload` (on `settings.changed`, see `follow`) picks up changes made elsewhere.
 */
import { jwt } from "@elysiajs/jwt";
import { randomBytes } from "node:crypto";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import { changedIds, type ChangeSubscriber } from "../core/changes/change-bus.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";

const SECRET_SETTING = "admin_jwt_secret";
const CUTOFF_MS_SETTING = "admin_jwt_valid_after_ms";
export const JWT_EXPIRE_BOUNDS: [number, number] = [1, 720];
export const DEFAULT_JWT_EXPIRE_HOURS = 24;

export type JwtCheck = { ok: true; exp: number } | { ok: false; reason: string };

interface AdminSection {
  password_hash?: string;
  jwt_expire_hours?: number;
  jwt_valid_after_unix?: number;
}

type Signer = { sign(v: Record<string, unknown>): Promise<string>; verify(t?: string): Promise<Record<string, unknown> | false> };

/** The stored values `verify` and `defaultExpireHours` read, kept in memory. */
interface RevocationState {
  admin: AdminSection;
  cutoffMs?: number;
}

async function readRevocation(store: Pick<StoreRepos, "settings">): Promise<RevocationState> {
  const [admin, cutoffMs] = await Promise.all([store.settings.get<AdminSection>(SETTING_KEYS.admin), store.settings.get<number>(CUTOFF_MS_SETTING)]);
  return { admin: admin ?? {}, cutoffMs };
}

/**
 * The stored signing secret, made on first use. Call it under the store's start-up lock so instances starting
 * together agree on one secret.
 */
async function storedSecret(store: StoreApi): Promise<string> {
  const existing = await store.settings.get<string>(SECRET_SETTING);
  if (existing) return existing;
  const secret = randomBytes(32).toString("base64url");
  await store.settings.set(SECRET_SETTING, secret);
  return secret;
}

export class AdminJwt {
  private readonly signer: Signer;

  private constructor(
    private readonly store: StoreApi,
    secret: string,
    private state: RevocationState,
    private readonly now: () => number,
  ) {
    const plugin = jwt({ name: "adminJwt", secret, alg: "HS256" });
    this.signer = (plugin.decorator as unknown as { adminJwt: Signer }).adminJwt;
  }

  /** Load (or, without `envSecret`, make on first start) the signing secret and the revocation settings. */
  static async open(store: StoreApi, envSecret: string | undefined, now: () => number = Date.now): Promise<AdminJwt> {
    const secret = envSecret || (await storedSecret(store));
    return new AdminJwt(store, secret, await readRevocation(store), now);
  }

  /** Re-read the revocation settings (after a change made through another path or instance). */
  async reload(): Promise<void> {
    this.state = await readRevocation(this.store);
  }

  /** Reload on every settings change that may touch them (all of them when the event names none). */
  follow(bus: ChangeSubscriber): () => void {
    return bus.subscribe(["settings.changed"], (events) => {
      const changed = changedIds(events);
      if (changed && !changed.ids.has(SETTING_KEYS.admin) && !changed.ids.has(CUTOFF_MS_SETTING)) return;
      return this.reload();
    });
  }

  private admin(): AdminSection {
    return this.state.admin;
  }

  /** Lifetime used when a login names none. */
  defaultExpireHours(): number {
    return this.admin().jwt_expire_hours || DEFAULT_JWT_EXPIRE_HOURS;
  }

  async sign(expireHours: number): Promise<{ token: string; expiresIn: number }> {
    const nowMs = this.now();
    const expiresIn = Math.round(expireHours * 3600);
    const token = await this.signer.sign({ role: "admin", iat_ms: nowMs, exp: Math.floor(nowMs / 1000) + expiresIn });
    return { token, expiresIn };
  }

  private cutoffMs(): number {
    const unix = this.admin().jwt_valid_after_unix ?? 0;
    const ms = this.state.cutoffMs;
    // The millisecond cut-off is exact; a cut-off known only in seconds (imported config) revokes that whole second.
    if (ms !== undefined && Math.floor(ms / 1000) >= unix) return ms;
    return unix ? unix * 1000 + 999 : 0;
  }

  async verify(token: string): Promise<JwtCheck> {
    if (token.split(".").length !== 3) return { ok: false, reason: "invalid token format" };
    // The algorithm is pinned: this server issues HS256 only, whatever a token's header claims.
    if (headerAlg(token) !== "HS256") return { ok: false, reason: "invalid token algorithm (only HS256 is accepted)" };
    const payload = await this.signer.verify(token);
    if (!payload) return { ok: false, reason: expiredClaim(token, this.now()) ? "token expired" : "invalid signature" };
    if (payload.role !== "admin" || typeof payload.exp !== "number") return { ok: false, reason: "invalid token claims" };
    const issued = typeof payload.iat_ms === "number" ? payload.iat_ms : typeof payload.iat === "number" ? payload.iat * 1000 : 0;
    if (issued <= this.cutoffMs()) return { ok: false, reason: "token revoked (the admin password changed); log in again" };
    return { ok: true, exp: payload.exp };
  }

  /**
   * Revoke every token issued up to now. Returns the unix-seconds cut-off. Given `tx` (a transaction's
   * repositories) it writes there, and the in-memory cut-off follows once the caller has committed and published
   * `settings.changed` for `admin` (see `follow`); without, it writes at once and updates memory.
   */
  async revokeAll(tx?: Pick<StoreRepos, "settings">): Promise<number> {
    const via = tx ?? this.store;
    const nowMs = this.now();
    const unix = Math.floor(nowMs / 1000);
    const admin = { ...((await via.settings.get<AdminSection>(SETTING_KEYS.admin)) ?? {}), jwt_valid_after_unix: unix };
    await via.settings.set(CUTOFF_MS_SETTING, nowMs);
    await via.settings.set(SETTING_KEYS.admin, admin);
    if (!tx) this.state = { admin, cutoffMs: nowMs };
    return unix;
  }
}

function headerAlg(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8")) as { alg?: unknown }).alg;
  } catch {
    return undefined;
  }
}

/** True when the (unverified) payload says the token has expired; used only to word the error. */
function expiredClaim(token: string, nowMs: number): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" && payload.exp * 1000 <= nowMs;
  } catch {
    return false;
  }
}
