/**
 * Key-style upstream credentials, one pool per provider (Volcengine console web ids, OnDemand API keys, …):
 * the secret and an optional per-entry authorization are sealed (AES-256-GCM); the id is a keyed hash of the
 * secret, so the same secret is the same entry and the id reveals nothing. Usage counts, states and
 * cool-downs are kept here so that they survive restarts.
 */
import type { SecretBox } from "./secret-box.ts";
import type { SqlExecutor } from "./sql/executor.ts";
import { assignments } from "./sql/assignments.ts";

export const CREDENTIAL_SECRET_FIELD = "provider_credentials.secret";
export const CREDENTIAL_AUTH_FIELD = "provider_credentials.auth";

/** ok: usable; exhausted: hit its max usage (until a reset); bad: rejected by the upstream; cooling: resting until `cooldownUntil`. */
export type CredentialState = "ok" | "exhausted" | "bad" | "cooling";

export interface CredentialRecord {
  provider: string;
  id: string;
  secret: string;
  /** A per-entry authorization that overrides the provider-wide one (e.g. Volcengine). */
  auth?: string;
  /** Masked secret for display (`ab****yz`). */
  preview: string;
  label?: string;
  enabled: boolean;
  /** Per-entry cap (0 = unlimited); undefined = the provider-wide setting. */
  maxUsage?: number;
  usageCount: number;
  state: CredentialState;
  stateReason?: string;
  cooldownUntil?: number;
  /** Consecutive failures (circuit breakers). */
  failures: number;
  lastUsedAt?: number;
  lastError?: string;
  lastErrorAt?: number;
  /** Non-secret provider-specific fields. */
  meta?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What an import or an admin add may set; `undefined` leaves a stored value alone. */
export interface CredentialInput {
  secret: string;
  auth?: string;
  label?: string;
  maxUsage?: number;
  meta?: Record<string, unknown>;
}

interface Row {
  provider: string;
  id: string;
  secret: string;
  auth: string | null;
  preview: string;
  label: string | null;
  enabled: number;
  max_usage: number | null;
  usage_count: number;
  state: string;
  state_reason: string | null;
  cooldown_until: number | null;
  failures: number;
  last_used_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  meta: string | null;
  created_at: number;
  updated_at: number;
}

/** `ab****yz` (first and last two, like DeepSeek token previews), `****` for secrets too short to show any of. */
export function credentialPreview(secret: string): string {
  return secret.length >= 8 ? `${secret.slice(0, 2)}****${secret.slice(-2)}` : "****";
}

export class CredentialsRepo {
  constructor(
    private readonly x: SqlExecutor,
    private readonly box: SecretBox,
  ) {}

  private toRecord(r: Row): CredentialRecord {
    return {
      provider: r.provider,
      id: r.id,
      secret: this.box.open(r.secret, CREDENTIAL_SECRET_FIELD) ?? "",
      auth: this.box.openOptional(r.auth, CREDENTIAL_AUTH_FIELD),
      preview: r.preview,
      label: r.label ?? undefined,
      enabled: r.enabled === 1,
      maxUsage: r.max_usage ?? undefined,
      usageCount: r.usage_count,
      state: r.state as CredentialState,
      stateReason: r.state_reason ?? undefined,
      cooldownUntil: r.cooldown_until ?? undefined,
      failures: r.failures,
      lastUsedAt: r.last_used_at ?? undefined,
      lastError: r.last_error ?? undefined,
      lastErrorAt: r.last_error_at ?? undefined,
      meta: r.meta ? (JSON.parse(r.meta) as Record<string, unknown>) : undefined,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  /** The stable id of `secret` in `provider`'s pool (a keyed hash: never the secret, not guessable offline). Pure: no I/O. */
  idFor(provider: string, secret: string): string {
    return this.box.hashApiKey(`credential:${provider}:${secret}`).slice(0, 16);
  }

  /** Every entry of a provider's pool in insertion order. */
  async list(provider: string): Promise<CredentialRecord[]> {
    return (await this.x.all<Row>("SELECT * FROM provider_credentials WHERE provider = ? ORDER BY sort_order", [provider])).map((r) => this.toRecord(r));
  }

  async get(provider: string, id: string): Promise<CredentialRecord | undefined> {
    const row = await this.x.get<Row>("SELECT * FROM provider_credentials WHERE provider = ? AND id = ?", [provider, id]);
    return row ? this.toRecord(row) : undefined;
  }

  async count(provider: string): Promise<number> {
    return (await this.x.get<{ n: number }>("SELECT COUNT(*) AS n FROM provider_credentials WHERE provider = ?", [provider]))?.n ?? 0;
  }

  /**
   * Insert a new entry or update the given fields of an existing one (same secret = same entry). Insert first
   * (ON CONFLICT DO NOTHING): two concurrent upserts of one secret, on one instance or two, create it once.
   */
  async upsert(provider: string, input: CredentialInput): Promise<{ id: string; created: boolean }> {
    const id = this.idFor(provider, input.secret);
    const now = Date.now();
    const inserted = await this.x.run(
      `INSERT INTO provider_credentials(provider, id, secret, auth, preview, label, max_usage, meta, created_at, updated_at, sort_order)
       VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM provider_credentials WHERE provider = ?))
       ON CONFLICT(provider, id) DO NOTHING`,
      [
        provider,
        id,
        this.box.seal(input.secret, CREDENTIAL_SECRET_FIELD),
        this.box.sealOptional(input.auth, CREDENTIAL_AUTH_FIELD),
        credentialPreview(input.secret),
        input.label ?? null,
        input.maxUsage ?? null,
        input.meta ? JSON.stringify(input.meta) : null,
        now,
        now,
        provider,
      ],
    );
    if (inserted.changes > 0) return { id, created: true };
    const existing = await this.get(provider, id);
    await this.x.run(
      `UPDATE provider_credentials SET
         auth = COALESCE(?, auth), label = COALESCE(?, label), max_usage = COALESCE(?, max_usage),
         meta = COALESCE(?, meta), updated_at = ?
       WHERE provider = ? AND id = ?`,
      [
        // An unchanged authorization is not rewritten (a fresh IV would change the row for nothing).
        input.auth !== undefined && input.auth !== existing?.auth ? this.box.seal(input.auth, CREDENTIAL_AUTH_FIELD) : null,
        input.label ?? null,
        input.maxUsage ?? null,
        input.meta ? JSON.stringify(input.meta) : null,
        now,
        provider,
        id,
      ],
    );
    return { id, created: false };
  }

  /** Set label / max usage explicitly (null clears). */
  async updateProfile(provider: string, id: string, fields: { label?: string | null; maxUsage?: number | null }): Promise<boolean> {
    const set = assignments({ label: fields.label, max_usage: fields.maxUsage, updated_at: Date.now() });
    return (await this.x.run(`UPDATE provider_credentials SET ${set.sql} WHERE provider = ? AND id = ?`, [...set.params, provider, id])).changes > 0;
  }

  async remove(provider: string, id: string): Promise<boolean> {
    return (await this.x.run("DELETE FROM provider_credentials WHERE provider = ? AND id = ?", [provider, id])).changes > 0;
  }

  async setEnabled(provider: string, id: string, enabled: boolean): Promise<boolean> {
    return (await this.x.run("UPDATE provider_credentials SET enabled = ?, updated_at = ? WHERE provider = ? AND id = ?", [enabled ? 1 : 0, Date.now(), provider, id])).changes > 0;
  }

  /** One more use (a request was sent with it). Returns the new count (0 when the entry is gone). */
  async recordUse(provider: string, id: string): Promise<number> {
    const row = await this.x.get<{ n: number }>(
      "UPDATE provider_credentials SET usage_count = usage_count + 1, last_used_at = ? WHERE provider = ? AND id = ? RETURNING usage_count AS n",
      [Date.now(), provider, id],
    );
    return row?.n ?? 0;
  }

  /** Set the usage count (an import carrying the count of another tool). */
  async setUsage(provider: string, id: string, count: number): Promise<void> {
    await this.x.run("UPDATE provider_credentials SET usage_count = ?, updated_at = ? WHERE provider = ? AND id = ?", [Math.max(0, Math.floor(count)), Date.now(), provider, id]);
  }

  /** Set the state (ok clears the reason, the cool-down and the failure count). */
  async setState(provider: string, id: string, state: CredentialState, reason?: string, opts: { cooldownUntil?: number; failures?: number } = {}): Promise<void> {
    const failures = state === "ok" ? 0 : opts.failures;
    await this.x.run(
      `UPDATE provider_credentials SET state = ?, state_reason = ?, cooldown_until = ?, failures = COALESCE(?, failures), updated_at = ?
       WHERE provider = ? AND id = ?`,
      [state, state === "ok" ? null : reason ?? null, state === "ok" ? null : opts.cooldownUntil ?? null, failures ?? null, Date.now(), provider, id],
    );
  }

  async recordError(provider: string, id: string, message: string): Promise<void> {
    await this.x.run("UPDATE provider_credentials SET last_error = ?, last_error_at = ? WHERE provider = ? AND id = ?", [message.slice(0, 500), Date.now(), provider, id]);
  }

  /** Usage back to 0 (one entry, or the whole pool); exhausted entries become usable again. Returns how many. */
  async resetUsage(provider: string, id?: string): Promise<number> {
    const sql = `UPDATE provider_credentials SET usage_count = 0,
        state = CASE WHEN state = 'exhausted' THEN 'ok' ELSE state END,
        state_reason = CASE WHEN state = 'exhausted' THEN NULL ELSE state_reason END, updated_at = ?
      WHERE provider = ?${id === undefined ? "" : " AND id = ?"}`;
    const now = Date.now();
    return (await this.x.run(sql, id === undefined ? [now, provider] : [now, provider, id])).changes;
  }
}
