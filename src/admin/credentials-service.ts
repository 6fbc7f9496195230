/**
 * Admin writes to the key-style credential pools of the other providers (Volcengine web ids, OnDemand keys): the
 * pool's own write (through its `CredentialPoolAdmin`, which writes the store itself and keeps its in-memory state),
 * then the audit row; then `credentials.changed` names the entries (`provider/id`, or the provider for whole-pool
 * changes) for whoever else holds a copy (another node of a cluster), and the answer waits for the views.
 *
 * The pool write is not inside a transaction of ours: a `CredentialPoolAdmin` writes through the root store (and its
 * own transactions), which would wait forever on a transaction held open around it. So the audit row follows the
 * committed write; when appending it fails, the change is still announced and the error reaches the caller.
 */
import type { ChangePublisher } from "../core/changes/change-bus.ts";
import type { StoreRepos } from "../store/store-api.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";

export interface CredentialWrite<T> {
  /** e.g. "providers.credentials.add". */
  action: string;
  /** `provider` or `provider/id`. */
  target: string;
  /** The pool write (its own commit). */
  apply(): T | Promise<T>;
  /** The audit detail for the result (no secrets). */
  detail?(result: T): Record<string, unknown> | undefined;
  /** Changed entries (`provider/id`); absent = the target. */
  ids?(result: T): string[];
  removed?: boolean;
}

export interface CredentialsAdmin {
  write<T>(who: AdminActor, op: CredentialWrite<T>): Promise<T>;
}

export function credentialsAdmin(store: Pick<StoreRepos, "audit">, changes: ChangePublisher): CredentialsAdmin {
  return {
    async write(who, op) {
      const result = await op.apply();
      const ids = op.ids?.(result) ?? [op.target];
      try {
        await writeAudit(store, who, op.action, op.target, op.detail?.(result));
      } finally {
        changes.publish({ topic: "credentials.changed", ids, ...(op.removed ? { removed: ids } : {}) });
        await changes.settled();
      }
      return result;
    },
  };
}
