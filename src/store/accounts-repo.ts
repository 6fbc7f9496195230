/**
 * DeepSeek accounts: credentials, token, health and usage bookkeeping. The password and the DeepSeek token
 * are sealed (AES-256-GCM, src/store/secret-box.ts) in the database; records carry them in clear.
 */
import type { Database } from "bun:sqlite";
import { newDeviceId } from "./device-id.ts";
import type { SecretBox } from "./secret-box.ts";

export const PASSWORD_FIELD = "accounts.password";
export const TOKEN_FIELD = "accounts.token";

/**
 * `risk_device`: DeepSeek refused the account's device (RISK_DEVICE_DETECTED) — skipped until an operator sets
 * another device id or a re-test passes. `muted`: DeepSeek muted the user — skipped until the recheck time.
 */
export type AccountStatus = "ok" | "cooling_down" | "login_failed" | "disabled" | "risk_device" | "muted";

export interface AccountRecord {
  identifier: string;
  email?: string;
  mobile?: string;
  password?: string;
  name?: string;
  remark?: string;
  proxyId?: string;
  /** The device id this account logs in with (its own; generated once when absent). */
  deviceId?: string;
  token?: string;
  tokenAt?: number;
  enabled: boolean;
  status: AccountStatus;
  statusReason?: string;
  cooldownUntil?: number;
  lastError?: string;
  lastErrorAt?: number;
  lastUsedAt?: number;
  requestCount: number;
  extra?: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** Fields an import or an admin edit may set. `undefined` leaves a stored value alone. */
export interface AccountInput {
  identifier: string;
  email?: string;
  mobile?: string;
  password?: string;
  name?: string;
  remark?: string;
  proxyId?: string;
  /** Its own login device id; a new account without one gets a fresh random id. */
  deviceId?: string;
  token?: string;
  extra?: Record<string, unknown>;
}

interface Row {
  identifier: string;
  email: string | null;
  mobile: string | null;
  password: string | null;
  name: string | null;
  remark: string | null;
  proxy_id: string | null;
  device_id: string | null;
  token: string | null;
  token_at: number | null;
  enabled: number;
  status: string;
  status_reason: string | null;
  cooldown_until: number | null;
  last_error: string | null;
  last_error_at: number | null;
  last_used_at: number | null;
  request_count: number;
  extra: string | null;
  created_at: number;
  updated_at: number;
}

function toRecord(r: Row, box: SecretBox): AccountRecord {
  return {
    identifier: r.identifier,
    email: r.email ?? undefined,
    mobile: r.mobile ?? undefined,
    password: box.openOptional(r.password, PASSWORD_FIELD),
    name: r.name ?? undefined,
    remark: r.remark ?? undefined,
    proxyId: r.proxy_id ?? undefined,
    deviceId: r.device_id ?? undefined,
    token: box.openOptional(r.token, TOKEN_FIELD),
    tokenAt: r.token_at ?? undefined,
    enabled: r.enabled === 1,
    status: r.status as AccountStatus,
    statusReason: r.status_reason ?? undefined,
    cooldownUntil: r.cooldown_until ?? undefined,
    lastError: r.last_error ?? undefined,
    lastErrorAt: r.last_error_at ?? undefined,
    lastUsedAt: r.last_used_at ?? undefined,
    requestCount: r.request_count,
    extra: r.extra ? (JSON.parse(r.extra) as Record<string, unknown>) : undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface AccountListQuery {
  q?: string;
  offset: number;
  limit: number;
}

export class AccountsRepo {
  private readonly toRecord: (r: Row) => AccountRecord;

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {
    this.toRecord = (r) => toRecord(r, box);
  }

  /** All accounts in insertion order. */
  list(): AccountRecord[] {
    return (this.db.query("SELECT * FROM accounts ORDER BY sort_order").all() as Row[]).map(this.toRecord);
  }

  /** A page, newest first, filtered by a case-insensitive substring of identifier, name, remark, email or mobile. */
  page(query: AccountListQuery): { items: AccountRecord[]; total: number } {
    const like = query.q ? `%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const where = like
      ? "WHERE lower(identifier) LIKE $q ESCAPE '\\' OR lower(COALESCE(name,'')) LIKE $q ESCAPE '\\' OR lower(COALESCE(remark,'')) LIKE $q ESCAPE '\\' OR lower(COALESCE(email,'')) LIKE $q ESCAPE '\\' OR lower(COALESCE(mobile,'')) LIKE $q ESCAPE '\\'"
      : "";
    const params: Record<string, string> = like ? { q: like } : {};
    const total = (this.db.query(`SELECT COUNT(*) AS n FROM accounts ${where}`).get(params) as { n: number }).n;
    const items = (
      this.db.query(`SELECT * FROM accounts ${where} ORDER BY sort_order DESC LIMIT $limit OFFSET $offset`).all({
        ...params,
        limit: query.limit,
        offset: query.offset,
      }) as Row[]
    ).map(this.toRecord);
    return { items, total };
  }

  get(identifier: string): AccountRecord | undefined {
    const row = this.db.query("SELECT * FROM accounts WHERE identifier = ?").get(identifier) as Row | null;
    return row ? this.toRecord(row) : undefined;
  }

  /**
   * The identifier of a stored account that an account with this identifier (and mobile) would duplicate: one
   * primary-key read when there is no mobile; a mobile is also compared with the other accounts' mobile column.
   */
  conflictOf(identifier: string, mobile?: string): string | undefined {
    const row = (
      mobile
        ? this.db.query("SELECT identifier FROM accounts WHERE identifier IN ($id, $mobile) OR mobile = $mobile LIMIT 1").get({ id: identifier, mobile })
        : this.db.query("SELECT identifier FROM accounts WHERE identifier = ?").get(identifier)
    ) as { identifier: string } | null;
    return row?.identifier;
  }

  /** The account with this identifier, else the first whose mobile or email is exactly this value. */
  lookup(value: string): AccountRecord | undefined {
    const direct = this.get(value);
    if (direct) return direct;
    const row = this.db.query("SELECT * FROM accounts WHERE mobile = $v OR email = $v ORDER BY sort_order LIMIT 1").get({ v: value }) as Row | null;
    return row ? this.toRecord(row) : undefined;
  }

  /** Add an account that does not exist yet (callers checked with `conflictOf`): one statement. */
  insert(input: AccountInput): void {
    const now = Date.now();
    this.db
      .query(
        `INSERT INTO accounts(identifier, email, mobile, password, name, remark, proxy_id, device_id, token, token_at, extra, created_at, updated_at, sort_order)
         VALUES($identifier, $email, $mobile, $password, $name, $remark, $proxy_id, $device_id, $token, $token_at, $extra, $now, $now,
                (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM accounts))`,
      )
      .run({
        identifier: input.identifier,
        email: input.email ?? null,
        mobile: input.mobile ?? null,
        password: this.box.sealOptional(input.password, PASSWORD_FIELD),
        name: input.name ?? null,
        remark: input.remark ?? null,
        proxy_id: input.proxyId ?? null,
        device_id: input.deviceId ?? newDeviceId(),
        token: this.box.sealOptional(input.token, TOKEN_FIELD),
        token_at: input.token ? now : null,
        extra: input.extra ? JSON.stringify(input.extra) : null,
        now,
      });
  }

  /** Identifiers of the accounts bound to this proxy. */
  boundTo(proxyId: string): string[] {
    return (this.db.query("SELECT identifier FROM accounts WHERE proxy_id = ? ORDER BY sort_order").all(proxyId) as { identifier: string }[]).map((r) => r.identifier);
  }

  /** Unbind every account from this proxy; returns how many were bound. */
  unbindProxy(proxyId: string): number {
    return this.db.query("UPDATE accounts SET proxy_id = NULL, updated_at = ? WHERE proxy_id = ?").run(Date.now(), proxyId).changes;
  }

  /** Every identifier, in insertion order (no secrets opened). */
  identifiers(): string[] {
    return (this.db.query("SELECT identifier FROM accounts ORDER BY sort_order").all() as { identifier: string }[]).map((r) => r.identifier);
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM accounts").get() as { n: number }).n;
  }

  /** Insert a new account or update the given fields of an existing one. Returns true when it is new. */
  upsert(input: AccountInput): boolean {
    const now = Date.now();
    const existing = this.get(input.identifier);
    if (!existing) {
      this.insert(input);
      return true;
    }
    this.db
      .query(
        `UPDATE accounts SET
           email = COALESCE($email, email), mobile = COALESCE($mobile, mobile), password = COALESCE($password, password),
           name = COALESCE($name, name), remark = COALESCE($remark, remark), proxy_id = COALESCE($proxy_id, proxy_id),
           device_id = COALESCE($device_id, device_id), extra = COALESCE($extra, extra), updated_at = $now
         WHERE identifier = $identifier`,
      )
      .run({
        identifier: input.identifier,
        email: input.email ?? null,
        mobile: input.mobile ?? null,
        // An unchanged password is not rewritten (a fresh IV would change the row for nothing).
        password: input.password !== undefined && input.password !== existing.password ? this.box.seal(input.password, PASSWORD_FIELD) : null,
        name: input.name ?? null,
        remark: input.remark ?? null,
        proxy_id: input.proxyId ?? null,
        device_id: input.deviceId ?? null,
        extra: input.extra ? JSON.stringify(input.extra) : null,
        now,
      });
    // A changed password or device invalidates the stored token (it belonged to the old credentials / device);
    // a new device id is also the operator's fix for a `risk_device` state.
    const newDevice = input.deviceId !== undefined && input.deviceId !== existing.deviceId;
    if (newDevice) this.clearDeviceRisk(input.identifier);
    if (newDevice || (input.password !== undefined && input.password !== existing.password)) this.setToken(input.identifier, null);
    return false;
  }

  /** Set name/remark/proxy explicitly (null clears). */
  updateProfile(identifier: string, fields: { name?: string | null; remark?: string | null; proxyId?: string | null }): boolean {
    const existing = this.get(identifier);
    if (!existing) return false;
    this.db.query("UPDATE accounts SET name = ?, remark = ?, proxy_id = ?, updated_at = ? WHERE identifier = ?").run(
      fields.name === undefined ? existing.name ?? null : fields.name,
      fields.remark === undefined ? existing.remark ?? null : fields.remark,
      fields.proxyId === undefined ? existing.proxyId ?? null : fields.proxyId,
      Date.now(),
      identifier,
    );
    return true;
  }

  /**
   * Give the account another device id (a fresh random one when `deviceId` is null). A changed id ends a
   * `risk_device` state (the operator's fix) and drops the token, which belongs to the old device.
   */
  setDeviceId(identifier: string, deviceId: string | null): string | undefined {
    const existing = this.get(identifier);
    if (!existing) return undefined;
    const next = deviceId ?? newDeviceId();
    if (next === existing.deviceId) return next;
    this.db.query("UPDATE accounts SET device_id = ?, updated_at = ? WHERE identifier = ?").run(next, Date.now(), identifier);
    this.setToken(identifier, null);
    this.clearDeviceRisk(identifier);
    return next;
  }

  private clearDeviceRisk(identifier: string): void {
    this.db.query("UPDATE accounts SET status = 'ok', status_reason = NULL, cooldown_until = NULL WHERE identifier = ? AND status = 'risk_device'").run(identifier);
  }

  setToken(identifier: string, token: string | null): void {
    this.db
      .query("UPDATE accounts SET token = ?, token_at = ?, updated_at = ? WHERE identifier = ?")
      .run(this.box.sealOptional(token, TOKEN_FIELD), token ? Date.now() : null, Date.now(), identifier);
  }

  setEnabled(identifier: string, enabled: boolean): boolean {
    return this.db.query("UPDATE accounts SET enabled = ?, updated_at = ? WHERE identifier = ?").run(enabled ? 1 : 0, Date.now(), identifier).changes > 0;
  }

  setStatus(identifier: string, status: AccountStatus, reason?: string, cooldownUntil?: number): void {
    this.db
      .query("UPDATE accounts SET status = ?, status_reason = ?, cooldown_until = ?, updated_at = ? WHERE identifier = ?")
      .run(status, reason ?? null, cooldownUntil ?? null, Date.now(), identifier);
  }

  recordError(identifier: string, message: string): void {
    this.db.query("UPDATE accounts SET last_error = ?, last_error_at = ? WHERE identifier = ?").run(message, Date.now(), identifier);
  }

  recordUse(identifier: string): void {
    this.db.query("UPDATE accounts SET last_used_at = ?, request_count = request_count + 1 WHERE identifier = ?").run(Date.now(), identifier);
  }

  delete(identifier: string): boolean {
    return this.db.query("DELETE FROM accounts WHERE identifier = ?").run(identifier).changes > 0;
  }

  deleteAll(): void {
    this.db.exec("DELETE FROM accounts");
  }
}
