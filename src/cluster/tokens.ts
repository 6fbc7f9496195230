/**
 * DeepSeek tokens shared by the cluster, and "log in once": `token:<acct>` holds `{token, at}` sealed with the
 * SecretBox (Redis never sees a clear token). The instance that wins `SET login:<acct> <holder> NX PX 30000` runs
 * the login, stores the token, publishes `tokens` and drops the lock; the others poll the token every 100 ms up to
 * the lock's TTL, then try for the lock themselves (the winner may have died or failed).
 */
import type { ClusterTokens } from "../core/cluster/ports.ts";
import type { Logger } from "../observability/logger.ts";
import type { SecretBox } from "../store/secret-box.ts";
import type { RedisConnection } from "./redis-connection.ts";
import { UNLOCK } from "./scripts.ts";

export interface ClusterTokensOptions {
  conn: RedisConnection;
  prefix: string;
  instanceId: string;
  box: SecretBox;
  logger: Logger;
  /** Login lock TTL (default 30 s). */
  lockTtlMs?: number;
  /** Poll period of a waiting instance (default 100 ms). */
  pollMs?: number;
}

/** The AAD of a sealed token: the field it belongs to, so a sealed value cannot be moved elsewhere. */
const FIELD = "cluster.token";

interface StoredToken {
  token: string;
  at: number;
}

function isStoredToken(v: unknown): v is StoredToken {
  const o = v as Partial<StoredToken> | null;
  return typeof o === "object" && o !== null && typeof o.token === "string" && typeof o.at === "number";
}

export class RedisClusterTokens implements ClusterTokens {
  private readonly changed = new Set<(account: string) => void>();
  private unsubscribe: (() => void) | undefined;
  private seq = 0;

  constructor(private readonly o: ClusterTokensOptions) {}

  private tokenKey(account: string): string {
    return `${this.o.prefix}token:${account}`;
  }

  private get channel(): string {
    return `${this.o.prefix}tokens`;
  }

  async start(): Promise<void> {
    this.unsubscribe = await this.o.conn.subscribe(this.channel, (message) => {
      let m: { origin?: unknown; account?: unknown };
      try {
        m = JSON.parse(message) as typeof m;
      } catch {
        return;
      }
      if (m.origin === this.o.instanceId || typeof m.account !== "string") return;
      for (const fn of this.changed) {
        try {
          fn(m.account);
        } catch (e) {
          this.o.logger.warn("cluster: a token listener failed", { error: e instanceof Error ? e.message : String(e) });
        }
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  async get(account: string): Promise<{ token: string; at: number } | undefined> {
    const sealed = await this.o.conn.call<string | null>("GET", [this.tokenKey(account)]);
    if (!sealed) return undefined;
    const plain = this.o.box.open(sealed, FIELD);
    if (plain === undefined) {
      this.o.logger.warn("cluster: a stored token does not open with this secret key (do all instances share DS2API_SECRET_KEY?)", { account });
      return undefined;
    }
    try {
      const v: unknown = JSON.parse(plain);
      return isStoredToken(v) ? { token: v.token, at: v.at } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores a token for the cluster and tells the other instances. */
  async put(account: string, token: string): Promise<void> {
    const sealed = this.o.box.seal(JSON.stringify({ token, at: Date.now() } satisfies StoredToken), FIELD);
    await this.o.conn.call("SET", [this.tokenKey(account), sealed]);
    await this.o.conn.publish(this.channel, JSON.stringify({ origin: this.o.instanceId, account }));
  }

  async loginOnce(account: string, login: () => Promise<string>, opts: { stale?: string }): Promise<string> {
    const lockKey = `${this.o.prefix}login:${account}`;
    const ttl = this.o.lockTtlMs ?? 30_000;
    const poll = this.o.pollMs ?? 100;
    for (;;) {
      // Someone else already replaced the stale token (or there is one and we had none): use it.
      const current = await this.get(account);
      if (current && current.token !== opts.stale) return current.token;
      const holder = `${this.o.instanceId}#${++this.seq}`;
      const won = await this.o.conn.call<string | null>("SET", [lockKey, holder, "NX", "PX", String(ttl)]);
      if (won === "OK") return await this.loginHolding(account, lockKey, holder, login);
      const deadline = Date.now() + ttl;
      while (Date.now() < deadline) {
        await Bun.sleep(poll);
        const t = await this.get(account);
        if (t && t.token !== opts.stale) return t.token;
        // The holder gave up without a token (its login failed): try for the lock now.
        if ((await this.o.conn.call<number>("EXISTS", [lockKey])) === 0) break;
      }
    }
  }

  private async loginHolding(account: string, lockKey: string, holder: string, login: () => Promise<string>): Promise<string> {
    try {
      const token = await login();
      try {
        await this.put(account, token);
      } catch (e) {
        // The login worked; the others will log in themselves once the lock expires. Not a reason to fail this turn.
        this.o.logger.warn("cluster: could not share a new token", { account, error: e instanceof Error ? e.message : String(e) });
      }
      return token;
    } finally {
      await this.o.conn.script(UNLOCK, [lockKey], [holder]).catch(() => {});
    }
  }

  onChanged(fn: (account: string) => void): () => void {
    this.changed.add(fn);
    return () => this.changed.delete(fn);
  }
}
