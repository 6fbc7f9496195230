/**
 * The cluster of one: this process is the whole truth. The change bus delivers in process, stored responses live in
 * memory, and the account pool's own counters are the leases (no `leases`, `tokens` or `quotas`: today's code paths,
 * without an extra await). `health` still watches the database, so a Postgres outage shows on /readyz and as 503s.
 */
import { InProcessChangeBus, type ChangeEvent } from "../changes/change-bus.ts";
import { DependencyHealthMonitor } from "./dependency-health.ts";
import { MemoryResponseStore } from "./memory-responses.ts";
import type { Cluster, Dependency } from "./ports.ts";

export interface SingleClusterOptions {
  /** How long a stored response is kept (read at every write, so a settings change applies at once). */
  responsesTtlMs: () => number;
  /** A change subscriber failed (the write it follows is committed either way). */
  onBusError: (error: unknown, events: readonly ChangeEvent[]) => void;
  /** Default `single`; shown on /readyz and in logs. */
  instanceId?: string;
  /** The dependencies to watch (default: the database). */
  watched?: readonly Dependency[];
  /** A health monitor made elsewhere (e.g. shared with the store's executor). */
  health?: DependencyHealthMonitor;
}

/** A Cluster whose health is the monitor type (with `onChange`, `markDown`, `setProbe`, `firstDown`). */
export interface LocalCluster extends Cluster {
  readonly health: DependencyHealthMonitor;
}

export function singleCluster(o: SingleClusterOptions): LocalCluster {
  const health = o.health ?? new DependencyHealthMonitor(o.watched ?? ["database"]);
  return {
    mode: "single",
    instanceId: o.instanceId ?? "single",
    bus: new InProcessChangeBus(o.onBusError),
    health,
    responses: new MemoryResponseStore(o.responsesTtlMs),
    async close() {
      health.close();
    },
  };
}
