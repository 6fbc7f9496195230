/**
 * The two connections one instance keeps to Redis — a command client and a subscriber — and what they do when
 * Redis goes away.
 *
 * Bun.RedisClient facts this relies on (Bun 1.4.5, docs/design/multi-instance.md §1): with the default offline
 * queue, commands hang while Redis is down, so it is off and a call made while disconnected fails at once; a
 * subscriber that reconnects does not subscribe again (and re-subscribing with a listener already registered
 * delivers twice); Bun's own reconnect gives up after `maxRetries` and then stays closed. So Bun's reconnect is off
 * and this class reconnects both clients itself, with a capped backoff, forever (until `close()`): the command
 * client's state is the `redis` health, and a subscriber that is back unsubscribes, subscribes every channel again
 * and runs the resync callbacks (messages published meanwhile were lost).
 *
 * Every command goes through `call`/`script`: disconnected → DependencyUnavailableError at once; a connection error
 * → reported to the health and turned into DependencyUnavailableError; a Redis error reply (a bug, a wrong type)
 * stays a plain Error. Scripts run with EVALSHA and are loaded again on NOSCRIPT (a SCRIPT FLUSH, a restarted Redis).
 */
import { RedisClient } from "bun";
import { DependencyUnavailableError, type DependencyHealth } from "../core/cluster/ports.ts";
import type { Logger } from "../observability/logger.ts";

export interface LuaScript {
  readonly name: string;
  readonly source: string;
}

export interface RedisConnectionOptions {
  url: string;
  health: DependencyHealth;
  logger: Logger;
  /** How long `open` keeps trying before it gives up with a clear error. */
  startTimeoutMs: number;
  /**
   * A Redis that accepts but does not answer (stopped, half-open connection) must not hang requests: when calls are
   * pending and nothing came back for this long (default 5 s), the client is closed, which fails them, and reconnects.
   * The subscriber is pinged on the same clock.
   */
  stallTimeoutMs?: number;
}

type Listener = (message: string) => void;

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 1000;

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(an unparsable Redis URL)";
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A Bun.RedisClient error that means "no connection" (as opposed to an error reply from Redis). */
function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code !== "ERR_REDIS_SERVER_ERROR" && code.startsWith("ERR_REDIS_");
  return /connection|socket|ECONNREFUSED|closed/i.test(errorText(e));
}

export class RedisConnection {
  private closed = false;
  private lastError = "not connected yet";
  private readonly shas = new Map<LuaScript, string>();
  private readonly channels = new Map<string, Set<Listener>>();
  private readonly resyncs = new Set<() => void>();
  private readonly reconnecting = new Set<RedisClient>();
  private readonly reconnected = new Set<() => void>();
  /** Commands sent and not answered yet, and when the command client last made progress. */
  private pending = 0;
  private progressAt = Date.now();
  private subPingAt: number | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly cmd: RedisClient,
    readonly sub: RedisClient,
    private readonly o: RedisConnectionOptions,
  ) {}

  /** Connects both clients, retrying with backoff up to `startTimeoutMs`; then throws one clear error. */
  static async open(o: RedisConnectionOptions): Promise<RedisConnection> {
    const options = { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: Math.max(100, Math.min(2000, o.startTimeoutMs)) };
    const deadline = Date.now() + o.startTimeoutMs;
    let cmd: RedisClient;
    let sub: RedisClient;
    try {
      cmd = new RedisClient(o.url, options);
      sub = new RedisClient(o.url, options);
    } catch (e) {
      // A configuration mistake, not an outage: no retry.
      throw new Error(`DS2API_REDIS_URL is not a usable Redis URL (${redactRedisUrl(o.url)}): ${errorText(e)}`);
    }
    const connectBoth = async () => {
      if (!cmd.connected) await cmd.connect();
      if (!sub.connected) await sub.connect();
    };
    let delay = BACKOFF_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await connectBoth();
        break;
      } catch (e) {
        const left = deadline - Date.now();
        if (left <= 0) {
          cmd.close();
          sub.close();
          const why = `Redis unreachable at ${redactRedisUrl(o.url)} after ${attempt} attempts in ${Math.round(o.startTimeoutMs / 1000)} s: ${errorText(e)}`;
          o.health.report("redis", new DependencyUnavailableError("redis", why));
          throw new DependencyUnavailableError("redis", why);
        }
        if (attempt === 1) {
          o.logger.warn("redis: not reachable yet, retrying", { url: redactRedisUrl(o.url), error: errorText(e) });
          o.health.report("redis", new DependencyUnavailableError("redis", `redis unreachable: ${errorText(e)}`));
        }
        await Bun.sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      }
    }
    const conn = new RedisConnection(cmd, sub, o);
    conn.watch();
    o.health.ok("redis");
    return conn;
  }

  get connected(): boolean {
    return this.cmd.connected;
  }

  /** One Redis command. Fails at once (DependencyUnavailableError) while Redis is unreachable. */
  async call<T = unknown>(command: string, args: string[]): Promise<T> {
    if (this.closed) throw new DependencyUnavailableError("redis", "the Redis connection is closed");
    if (!this.cmd.connected) throw this.unavailable();
    if (this.pending++ === 0) this.progressAt = Date.now();
    try {
      return (await this.cmd.send(command, args)) as T;
    } catch (e) {
      throw this.translate(e);
    } finally {
      this.pending--;
      this.progressAt = Date.now();
    }
  }

  /** Runs a script by its SHA, loading it first (and again after NOSCRIPT). */
  async script<T = unknown>(s: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    const argv = [String(keys.length), ...keys, ...args.map(String)];
    let sha = this.shas.get(s) ?? (await this.load(s));
    try {
      return await this.call<T>("EVALSHA", [sha, ...argv]);
    } catch (e) {
      if (!/NOSCRIPT/.test(errorText(e))) throw e;
      sha = await this.load(s);
      return await this.call<T>("EVALSHA", [sha, ...argv]);
    }
  }

  /** Publishes on the command client; resolves to the receiver count. */
  publish(channel: string, message: string): Promise<number> {
    return this.call<number>("PUBLISH", [channel, message]);
  }

  /**
   * Listens to a channel for the life of the connection (kept across reconnects). The returned promise settles when
   * the first SUBSCRIBE is acknowledged; the function it resolves to stops listening.
   */
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    let set = this.channels.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(listener);
    if (first && this.sub.connected) await this.sub.subscribe(channel, this.dispatch);
    return () => {
      set.delete(listener);
    };
  }

  /** Called after the subscriber came back (messages published while it was away are lost: reread). */
  onResubscribed(fn: () => void): () => void {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }

  /** Called each time the command client is back after a loss (renew leases a restarted Redis forgot, …). */
  onReconnected(fn: () => void): () => void {
    this.reconnected.add(fn);
    return () => this.reconnected.delete(fn);
  }

  /** Closes both clients; nothing reconnects afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.cmd.close();
    this.sub.close();
  }

  private readonly dispatch = (message: string, channel: string): void => {
    for (const fn of this.channels.get(channel) ?? []) {
      try {
        fn(message);
      } catch (e) {
        this.o.logger.warn("redis: a channel listener failed", { channel, error: errorText(e) });
      }
    }
  };

  private unavailable(): DependencyUnavailableError {
    return new DependencyUnavailableError("redis", `redis unreachable: ${this.lastError}`);
  }

  private translate(e: unknown): unknown {
    if (e instanceof DependencyUnavailableError) return e;
    if (!isConnectionError(e)) return e;
    this.lastError = errorText(e);
    this.o.health.report("redis", e);
    this.reconnect(this.cmd);
    return this.unavailable();
  }

  private async load(s: LuaScript): Promise<string> {
    const sha = await this.call<string>("SCRIPT", ["LOAD", s.source]);
    this.shas.set(s, sha);
    return sha;
  }

  private watch(): void {
    this.cmd.onclose = (e) => {
      if (this.closed) return;
      this.lastError = errorText(e);
      this.o.health.report("redis", new DependencyUnavailableError("redis", `redis unreachable: ${this.lastError}`));
      this.reconnect(this.cmd);
    };
    this.cmd.onconnect = () => {
      if (this.closed) return;
      this.o.health.ok("redis");
    };
    this.sub.onclose = () => {
      this.subPingAt = undefined;
      if (!this.closed) this.reconnect(this.sub);
    };
    const stall = this.o.stallTimeoutMs ?? 5000;
    this.watchdog = setInterval(() => this.checkStalls(stall), Math.max(50, Math.min(1000, Math.floor(stall / 4))));
    this.watchdog.unref?.();
  }

  private checkStalls(stall: number): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.pending > 0 && this.cmd.connected && now - this.progressAt > stall) {
      this.o.logger.warn("redis: no answer, dropping the connection", { pending: this.pending, stalledMs: now - this.progressAt });
      this.lastError = `no answer for ${now - this.progressAt} ms`;
      this.progressAt = now;
      this.cmd.close(); // fails the pending calls; onclose reconnects
    }
    if (!this.sub.connected) return;
    if (this.subPingAt === undefined) {
      const sentAt = now;
      this.subPingAt = sentAt;
      this.sub.ping().then(
        () => {
          if (this.subPingAt === sentAt) this.subPingAt = undefined;
        },
        () => {},
      );
    } else if (now - this.subPingAt > stall) {
      this.o.logger.warn("redis: the subscriber does not answer, reconnecting it");
      this.subPingAt = undefined;
      this.sub.close(); // onclose reconnects, then resubscribes and resyncs
    }
  }

  /** One reconnect loop per client at a time, with a capped backoff, until it is back or the connection closed. */
  private reconnect(client: RedisClient): void {
    if (this.closed || this.reconnecting.has(client)) return;
    this.reconnecting.add(client);
    const which = client === this.cmd ? "command" : "subscriber";
    void (async () => {
      let delay = BACKOFF_MIN_MS;
      try {
        while (!this.closed && !client.connected) {
          await Bun.sleep(delay);
          if (this.closed) return;
          try {
            await client.connect();
          } catch {
            delay = Math.min(delay * 2, BACKOFF_MAX_MS);
          }
        }
        if (this.closed) return;
        this.o.logger.info("redis: reconnected", { client: which });
        if (client === this.sub) await this.resubscribe();
        else
          for (const fn of this.reconnected) {
            try {
              fn();
            } catch (e) {
              this.o.logger.warn("redis: a reconnect callback failed", { error: errorText(e) });
            }
          }
      } finally {
        this.reconnecting.delete(client);
      }
    })().catch((e: unknown) => this.o.logger.warn("redis: reconnect loop failed", { client: which, error: errorText(e) }));
  }

  private async resubscribe(): Promise<void> {
    try {
      // Bun keeps the old registrations; subscribing again on top of them would deliver every message twice.
      await this.sub.unsubscribe();
      for (const channel of this.channels.keys()) await this.sub.subscribe(channel, this.dispatch);
    } catch (e) {
      this.o.logger.warn("redis: resubscribe failed, retrying", { error: errorText(e) });
      if (this.sub.connected) this.sub.close(); // onclose restarts the loop
      else this.reconnect(this.sub);
      return;
    }
    for (const fn of this.resyncs) {
      try {
        fn();
      } catch (e) {
        this.o.logger.warn("redis: a resync callback failed", { error: errorText(e) });
      }
    }
  }
}
