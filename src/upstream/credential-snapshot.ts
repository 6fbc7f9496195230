/**
 * The in-memory copy of one provider's key-style credential pool (store.credentials): what a pool picks from on
 * every request without a store round trip. Loaded at start, re-read on `credentials.changed` (all entries, or just
 * the named ones), and patched at once by the pool's own state changes, whose store writes are fire-and-forget.
 */
import type { CredentialRecord } from "../store/credentials-repo.ts";
import type { StoreApi } from "../store/store-api.ts";

export type CredentialReader = Pick<StoreApi["credentials"], "list" | "get">;

export class CredentialSnapshot {
  private entries: readonly CredentialRecord[] = [];
  /** The reload under way (reloads queue, so an older read never lands after a newer one). */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: CredentialReader,
    private readonly provider: string,
  ) {}

  /** Every entry, in the pool's order. */
  list(): readonly CredentialRecord[] {
    return this.entries;
  }

  get(id: string): CredentialRecord | undefined {
    return this.entries.find((e) => e.id === id);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Re-read these entries (gone ones leave), or the whole pool when `ids` is absent. Reloads run one after another. */
  reload(ids?: readonly string[]): Promise<void> {
    const run = this.queue.then(() => this.load(ids));
    this.queue = run.catch(() => {});
    return run;
  }

  private async load(ids?: readonly string[]): Promise<void> {
    if (!ids) {
      this.entries = await this.repo.list(this.provider);
      return;
    }
    const fresh = await Promise.all(ids.map((id) => this.repo.get(this.provider, id)));
    const next = [...this.entries];
    ids.forEach((id, i) => {
      const rec = fresh[i];
      const at = next.findIndex((e) => e.id === id);
      if (!rec) {
        if (at >= 0) next.splice(at, 1);
      } else if (at >= 0) next[at] = rec;
      // A new entry goes last: the store's order is insertion order, as a full list would be.
      else next.push(rec);
    });
    this.entries = next;
  }

  /** Apply a change the pool just made (its store write follows on its own). */
  patch(id: string, fields: Partial<CredentialRecord> | ((cur: CredentialRecord) => Partial<CredentialRecord>)): CredentialRecord | undefined {
    let out: CredentialRecord | undefined;
    this.entries = this.entries.map((e) => {
      if (e.id !== id) return e;
      out = { ...e, ...(typeof fields === "function" ? fields(e) : fields) };
      return out;
    });
    return out;
  }

  /** Apply a change to every entry (a pool-wide reset). */
  patchAll(fields: (cur: CredentialRecord) => Partial<CredentialRecord>): void {
    this.entries = this.entries.map((e) => ({ ...e, ...fields(e) }));
  }
}
