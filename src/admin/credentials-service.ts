/**
 * Admin writes to the key-style credential pools of the other providers (Volcengine web ids, OnDemand keys): the
 * pool's own write (through its `CredentialPoolAdmin`, which keeps its in-memory state) and the audit row commit in
 * one transaction; then `credentials.changed` names the entries (`provider/id`, or the provider for whole-pool
 * changes) for whoever else holds a copy (another node of a cluster).
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { Store } from "../store/store.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";

export interface CredentialWrite<T> {
  /** e.g. "providers.credentials.add". */
  action: string;
  /** `provider` or `provider/id`. */
  target: string;
  /** The pool write: atomic on its own (the pool admin's own transaction), so it runs before the audit row. */
  apply(): Promise<T>;
  /** The audit detail for the result (no secrets). */
  detail?(result: T): Record<string, unknown> | undefined;
  /** Changed entries (`provider/id`); absent = the target. */
  ids?(result: T): string[];
  removed?: boolean;
}

export interface CredentialsAdmin {
  write<T>(who: AdminActor, op: CredentialWrite<T>): Promise<T>;
}

export function credentialsAdmin(store: Store, changes: ChangePublisher): CredentialsAdmin {
  return {
    async write(who, op) {
      // Transitional (cconf): the pool admin's writes are async and commit on their own (they cannot join a
      // transaction held here), so the audit row follows the committed write.
      const result = await op.apply();
      writeAudit(store, who, op.action, op.target, op.detail?.(result));
      const ids = op.ids?.(result) ?? [op.target];
      changes.publish({ topic: "credentials.changed", ids, ...(op.removed ? { removed: ids } : {}) });
      await changes.settled();
      return result;
    },
  };
}
