/**
 * This instance's view of its cluster, as /readyz (`cluster`) and /metrics show it: mode and instance id, the
 * health of the database and Redis, the cluster-wide capacity (from the lease heartbeat; one instance: its own
 * pool), and this instance's share of the in-flight and waiting requests.
 */
import type { Cluster, Dependency, DependencyState } from "../core/cluster/ports.ts";

/** This instance's own account pool, as the registry reports it. */
export interface LocalLoad {
  accounts: number;
  inFlight: number;
  waiting: number;
}

export interface ClusterView {
  mode: Cluster["mode"];
  instance: string;
  /** Instances seen by the heartbeat in the last seconds (1 alone). */
  instances: number;
  database: { kind: string; up: boolean; error?: string };
  /** Only when the cluster uses Redis. */
  redis?: { up: boolean; error?: string };
  capacity: { accounts: number; in_flight: number; waiting: number; /** Leases held per account over all instances. */ per_account?: Record<string, number> };
  /** This instance's share (0–1) of the cluster's in-flight and waiting requests (1 alone, or 1/instances when idle). */
  share: { in_flight: number; waiting: number };
}

function dependencyView(state: DependencyState | undefined): { up: boolean; error?: string } {
  if (!state) return { up: true };
  return state.up || !state.error ? { up: state.up } : { up: false, error: state.error };
}

function ratio(local: number, total: number, instances: number): number {
  if (total > 0) return Math.min(1, local / total);
  return instances > 0 ? 1 / instances : 1;
}

export function clusterView(cluster: Cluster, storeKind: string, local: LocalLoad): ClusterView {
  const health = cluster.health.view();
  const heartbeat = cluster.leases?.capacity();
  const instances = Math.max(1, heartbeat?.instances ?? 1);
  const inFlight = heartbeat ? heartbeat.inflight : local.inFlight;
  const waiting = heartbeat ? heartbeat.waiting : local.waiting;
  const redisShown = cluster.mode === "redis" || health.redis !== undefined;
  return {
    mode: cluster.mode,
    instance: cluster.instanceId,
    instances,
    database: { kind: storeKind, ...dependencyView(health.database) },
    ...(redisShown ? { redis: dependencyView(health.redis) } : {}),
    capacity: { accounts: local.accounts, in_flight: inFlight, waiting, ...(heartbeat ? { per_account: { ...heartbeat.perAccount } } : {}) },
    share: { in_flight: ratio(local.inFlight, inFlight, instances), waiting: ratio(local.waiting, waiting, instances) },
  };
}

/** The dependencies of a view, for the `ds2api_dependency_up` gauge. */
export function dependencyUp(view: ClusterView): [Dependency, boolean][] {
  const out: [Dependency, boolean][] = [["database", view.database.up]];
  if (view.redis) out.push(["redis", view.redis.up]);
  return out;
}
