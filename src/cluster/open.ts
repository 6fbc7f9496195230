/**
 * The Redis-backed cluster (DS2API_REDIS_URL): one command connection and one subscriber shared by leases, tokens,
 * quotas, stored responses and the change bus, all keys under `prefix`. `openCluster` waits for Redis up to
 * `startTimeoutMs` (then throws one clear DependencyUnavailableError); `close()` releases this instance's leases,
 * leaves the instance list, stops the timers and quits both clients.
 */
import type { Cluster, DependencyHealth } from "../core/cluster/ports.ts";
import type { Logger } from "../observability/logger.ts";
import type { SecretBox } from "../store/secret-box.ts";
import { RedisChangeBus } from "./change-bus.ts";
import { RedisClusterLeases } from "./leases.ts";
import { RedisQuotaCounters } from "./quotas.ts";
import { RedisConnection } from "./redis-connection.ts";
import { RedisResponseStore } from "./responses.ts";
import { RedisClusterTokens } from "./tokens.ts";

export interface OpenClusterOptions {
  redisUrl: string;
  /** Key and channel prefix, e.g. "ds2api:". */
  prefix: string;
  instanceId: string;
  box: SecretBox;
  logger: Logger;
  leaseTtlMs: number;
  responsesTtlMs: () => number;
  health: DependencyHealth;
  startTimeoutMs: number;
  /** Heartbeat period (default 1 s; tests may shorten it). */
  heartbeatMs?: number;
  /** Pending calls with no answer for this long drop the connection (default 5 s; see RedisConnection). */
  stallTimeoutMs?: number;
}

/** The Redis cluster, with its parts typed concretely (tests and metrics read renew failures, live leases). */
export interface RedisCluster extends Cluster {
  readonly mode: "redis";
  leases: RedisClusterLeases;
  tokens: RedisClusterTokens;
  quotas: RedisQuotaCounters;
  bus: RedisChangeBus;
  readonly connection: RedisConnection;
}

export async function openCluster(o: OpenClusterOptions): Promise<RedisCluster> {
  const conn = await RedisConnection.open({ url: o.redisUrl, health: o.health, logger: o.logger, startTimeoutMs: o.startTimeoutMs, stallTimeoutMs: o.stallTimeoutMs });
  const bus = new RedisChangeBus({
    conn,
    prefix: o.prefix,
    instanceId: o.instanceId,
    onError: (e, events) =>
      o.logger.warn("change bus: an event could not be applied or shared", {
        topics: [...new Set(events.map((ev) => ev.topic))].join(","),
        error: e instanceof Error ? e.message : String(e),
      }),
  });
  const leases = new RedisClusterLeases({ conn, prefix: o.prefix, instanceId: o.instanceId, logger: o.logger, leaseTtlMs: o.leaseTtlMs, heartbeatMs: o.heartbeatMs });
  const tokens = new RedisClusterTokens({ conn, prefix: o.prefix, instanceId: o.instanceId, box: o.box, logger: o.logger });
  try {
    await bus.start();
    await tokens.start();
    await leases.start();
  } catch (e) {
    conn.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    mode: "redis",
    instanceId: o.instanceId,
    connection: conn,
    bus,
    health: o.health,
    responses: new RedisResponseStore(conn, o.prefix, o.responsesTtlMs),
    leases,
    tokens,
    quotas: new RedisQuotaCounters(conn, o.prefix),
    close: () =>
      (closing ??= (async () => {
        await leases.stop();
        tokens.stop();
        bus.stop();
        await bus.settled().catch(() => {});
        conn.close();
      })()),
  };
}
