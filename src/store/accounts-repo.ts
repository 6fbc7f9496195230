/**
 * DeepSeek accounts: credentials, token, health and usage bookkeeping. The password and the DeepSeek token
 * are sealed (AES-256-GCM, src/store/secret-box.ts) in the database; records carry them in clear.
 * On Postgres `recordUse` is write-behind (see `accountUses`): counted in memory, written within a second.
 */
import { newDeviceId } from "./device-id.ts";
import type { SecretBox } from "./secret-box.ts";
import type { SqlExecutor, SqlValue } from "./sql/executor.ts";
import { LIKE_ESCAPE, likeContaining } from "./sql/like.ts";
import { WriteBehind, type WriteBehindErrorReport } from "./sql/write-behind.ts";
import { assignments } from "./sql/assignments.ts";

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

/** Uses of one account not written yet (write-behind). */
export interface AccountUses {
  n: number;
  lastAt: number;
}

const RECORD_USES = `UPDATE accounts SET request_count = request_count + ?,
  last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END
  WHERE identifier = ?`;

async function writeUses(x: SqlExecutor, identifier: string, u: AccountUses): Promise<void> {
  await x.run(RECORD_USES, [u.n, u.lastAt, u.lastAt, identifier]);
}

/** The write-behind buffer of `recordUse` (Postgres): additive, flushed every second. */
export function accountUsesBuffer(x: SqlExecutor, onError?: WriteBehindErrorReport, everyMs?: number): WriteBehind<AccountUses> {
  return new WriteBehind<AccountUses>({
    name: "account uses",
    x,
    everyMs,
    onError,
    merge(into, more) {
      into.n += more.n;
      into.lastAt = Math.max(into.lastAt, more.lastAt);
    },
    async write(tx, entries) {
      for (const [identifier, u] of entries) await writeUses(tx, identifier, u);
    },
  });
}

const PAGE_FILTER = ["identifier", "COALESCE(name,'')", "COALESCE(remark,'')", "COALESCE(email,'')", "COALESCE(mobile,'')"]
  .map((c) => `lower(${c}) LIKE ? ${LIKE_ESCAPE}`)
  .join(" OR ");

export class AccountsRepo {
  private readonly toRecord: (r: Row) => AccountRecord;

  constructor(
    private readonly x: SqlExecutor,
    private readonly box: SecretBox,
    /** Postgres: `recordUse` goes through this buffer; sqlite writes at once. */
    private readonly uses?: WriteBehind<AccountUses>,
  ) {
    this.toRecord = (r) => toRecord(r, box);
  }

  /** All accounts in insertion order. */
  async list(): Promise<AccountRecord[]> {
    return (await this.x.all<Row>("SELECT * FROM accounts ORDER BY sort_order")).map(this.toRecord);
  }

  /** A page, newest first, filtered by a case-insensitive substring of identifier, name, remark, email or mobile. */
  async page(query: AccountListQuery): Promise<{ items: AccountRecord[]; total: number }> {
    const like = query.q ? likeContaining(query.q.toLowerCase()) : null;
    const where = like ? `WHERE ${PAGE_FILTER}` : "";
    const params: SqlValue[] = like ? [like, like, like, like, like] : [];
    const total = (await this.x.get<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts ${where}`, params))?.n ?? 0;
    const rows = await this.x.all<Row>(`SELECT * FROM accounts ${where} ORDER BY sort_order DESC LIMIT ? OFFSET ?`, [...params, query.limit, query.offset]);
    return { items: rows.map(this.toRecord), total };
  }

  async get(identifier: string): Promise<AccountRecord | undefined> {
    const row = await this.x.get<Row>("SELECT * FROM accounts WHERE identifier = ?", [identifier]);
    return row ? this.toRecord(row) : undefined;
  }

  /**
   * The identifier of a stored account that an account with this identifier (and mobile) would duplicate: one
   * primary-key read when there is no mobile; a mobile is also compared with the other accounts' mobile column.
   */
  async conflictOf(identifier: string, mobile?: string): Promise<string | undefined> {
    const row = mobile
      ? await this.x.get<{ identifier: string }>("SELECT identifier FROM accounts WHERE identifier IN (?, ?) OR mobile = ? LIMIT 1", [identifier, mobile, mobile])
      : await this.x.get<{ identifier: string }>("SELECT identifier FROM accounts WHERE identifier = ?", [identifier]);
    return row?.identifier;
  }

  /** The account with this identifier, else the first whose mobile or email is exactly this value. */
  async lookup(value: string): Promise<AccountRecord | undefined> {
    const direct = await this.get(value);
    if (direct) return direct;
    const row = await this.x.get<Row>("SELECT * FROM accounts WHERE mobile = ? OR email = ? ORDER BY sort_order LIMIT 1", [value, value]);
    return row ? this.toRecord(row) : undefined;
  }

  /** Add an account that does not exist yet (callers checked with `conflictOf`): one statement. */
  async insert(input: AccountInput): Promise<void> {
    await this.insertRow(input, "");
  }

  /** Insert; `onConflict` "" (a duplicate is an error) or an ON CONFLICT clause. True when a row was added. */
  private async insertRow(input: AccountInput, onConflict: string): Promise<boolean> {
    const now = Date.now();
    const r = await this.x.run(
      `INSERT INTO accounts(identifier, email, mobile, password, name, remark, proxy_id, device_id, token, token_at, extra, created_at, updated_at, sort_order)
       VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM accounts))${onConflict}`,
      [
        input.identifier,
        input.email ?? null,
        input.mobile ?? null,
        this.box.sealOptional(input.password, PASSWORD_FIELD),
        input.name ?? null,
        input.remark ?? null,
        input.proxyId ?? null,
        input.deviceId ?? newDeviceId(),
        this.box.sealOptional(input.token, TOKEN_FIELD),
        input.token ? now : null,
        input.extra ? JSON.stringify(input.extra) : null,
        now,
        now,
      ],
    );
    return r.changes > 0;
  }

  /** Identifiers of the accounts bound to this proxy. */
  async boundTo(proxyId: string): Promise<string[]> {
    return (await this.x.all<{ identifier: string }>("SELECT identifier FROM accounts WHERE proxy_id = ? ORDER BY sort_order", [proxyId])).map((r) => r.identifier);
  }

  /** Unbind every account from this proxy; returns how many were bound. */
  async unbindProxy(proxyId: string): Promise<number> {
    return (await this.x.run("UPDATE accounts SET proxy_id = NULL, updated_at = ? WHERE proxy_id = ?", [Date.now(), proxyId])).changes;
  }

  /** Every identifier, in insertion order (no secrets opened). */
  async identifiers(): Promise<string[]> {
    return (await this.x.all<{ identifier: string }>("SELECT identifier FROM accounts ORDER BY sort_order")).map((r) => r.identifier);
  }

  async count(): Promise<number> {
    return (await this.x.get<{ n: number }>("SELECT COUNT(*) AS n FROM accounts"))?.n ?? 0;
  }

  /** Run `fn` on this repository bound to one transaction (nested: the caller's). */
  private within<T>(fn: (r: AccountsRepo) => Promise<T>): Promise<T> {
    return this.x.transaction((tx) => fn(new AccountsRepo(tx, this.box, this.uses)));
  }

  /**
   * Insert a new account or update the given fields of an existing one. Returns true when it is new. One
   * transaction; a concurrent insert of the same identifier (another instance) turns this into an update.
   */
  upsert(input: AccountInput): Promise<boolean> {
    return this.within((r) => r.upsertHere(input));
  }

  private async upsertHere(input: AccountInput): Promise<boolean> {
    const now = Date.now();
    let existing = await this.get(input.identifier);
    if (!existing) {
      if (await this.insertRow(input, " ON CONFLICT(identifier) DO NOTHING")) return true;
      existing = await this.get(input.identifier);
      if (!existing) throw new Error(`account ${input.identifier} vanished during an upsert`);
    }
    const passwordChanged = input.password !== undefined && input.password !== existing.password;
    await this.x.run(
      `UPDATE accounts SET
         email = COALESCE(?, email), mobile = COALESCE(?, mobile), password = COALESCE(?, password),
         name = COALESCE(?, name), remark = COALESCE(?, remark), proxy_id = COALESCE(?, proxy_id),
         device_id = COALESCE(?, device_id), extra = COALESCE(?, extra), updated_at = ?
       WHERE identifier = ?`,
      [
        input.email ?? null,
        input.mobile ?? null,
        // An unchanged password is not rewritten (a fresh IV would change the row for nothing).
        passwordChanged ? this.box.seal(input.password!, PASSWORD_FIELD) : null,
        input.name ?? null,
        input.remark ?? null,
        input.proxyId ?? null,
        input.deviceId ?? null,
        input.extra ? JSON.stringify(input.extra) : null,
        now,
        input.identifier,
      ],
    );
    // A changed password or device invalidates the stored token (it belonged to the old credentials / device);
    // a new device id is also the operator's fix for a `risk_device` state.
    const newDevice = input.deviceId !== undefined && input.deviceId !== existing.deviceId;
    if (newDevice) await this.clearDeviceRisk(input.identifier);
    if (newDevice || passwordChanged) await this.setToken(input.identifier, null);
    return false;
  }

  /** Set name/remark/proxy explicitly (null clears). */
  async updateProfile(identifier: string, fields: { name?: string | null; remark?: string | null; proxyId?: string | null }): Promise<boolean> {
    const set = assignments({ name: fields.name, remark: fields.remark, proxy_id: fields.proxyId, updated_at: Date.now() });
    return (await this.x.run(`UPDATE accounts SET ${set.sql} WHERE identifier = ?`, [...set.params, identifier])).changes > 0;
  }

  /**
   * Give the account another device id (a fresh random one when `deviceId` is null). A changed id ends a
   * `risk_device` state (the operator's fix) and drops the token, which belongs to the old device.
   */
  setDeviceId(identifier: string, deviceId: string | null): Promise<string | undefined> {
    return this.within((r) => r.setDeviceIdHere(identifier, deviceId));
  }

  private async setDeviceIdHere(identifier: string, deviceId: string | null): Promise<string | undefined> {
    const existing = await this.get(identifier);
    if (!existing) return undefined;
    const next = deviceId ?? newDeviceId();
    if (next === existing.deviceId) return next;
    await this.x.run("UPDATE accounts SET device_id = ?, updated_at = ? WHERE identifier = ?", [next, Date.now(), identifier]);
    await this.setToken(identifier, null);
    await this.clearDeviceRisk(identifier);
    return next;
  }

  private async clearDeviceRisk(identifier: string): Promise<void> {
    await this.x.run("UPDATE accounts SET status = 'ok', status_reason = NULL, cooldown_until = NULL WHERE identifier = ? AND status = 'risk_device'", [identifier]);
  }

  async setToken(identifier: string, token: string | null): Promise<void> {
    const now = Date.now();
    await this.x.run("UPDATE accounts SET token = ?, token_at = ?, updated_at = ? WHERE identifier = ?", [this.box.sealOptional(token, TOKEN_FIELD), token ? now : null, now, identifier]);
  }

  async setEnabled(identifier: string, enabled: boolean): Promise<boolean> {
    return (await this.x.run("UPDATE accounts SET enabled = ?, updated_at = ? WHERE identifier = ?", [enabled ? 1 : 0, Date.now(), identifier])).changes > 0;
  }

  async setStatus(identifier: string, status: AccountStatus, reason?: string, cooldownUntil?: number): Promise<void> {
    await this.x.run("UPDATE accounts SET status = ?, status_reason = ?, cooldown_until = ?, updated_at = ? WHERE identifier = ?", [
      status,
      reason ?? null,
      cooldownUntil ?? null,
      Date.now(),
      identifier,
    ]);
  }

  async recordError(identifier: string, message: string): Promise<void> {
    await this.x.run("UPDATE accounts SET last_error = ?, last_error_at = ? WHERE identifier = ?", [message, Date.now(), identifier]);
  }

  /** One more request served. Postgres: counted in memory and written within a second (write-behind). */
  async recordUse(identifier: string): Promise<void> {
    const use = { n: 1, lastAt: Date.now() };
    if (this.uses) this.uses.add(identifier, use);
    else await writeUses(this.x, identifier, use);
  }

  async delete(identifier: string): Promise<boolean> {
    return (await this.x.run("DELETE FROM accounts WHERE identifier = ?", [identifier])).changes > 0;
  }

  async deleteAll(): Promise<void> {
    await this.x.run("DELETE FROM accounts");
  }
}
