/** In-memory digests of the configured client API keys, rebuilt from the store after every change. */
import type { Store } from "../store/store.ts";
import { findSecret, secretDigest } from "./secret-compare.ts";

export class ApiKeyIndex {
  private keys: string[] = [];
  private digests: Buffer[] = [];

  constructor(private readonly store: Store) {
    this.reload();
  }

  reload(): void {
    this.keys = this.store.apiKeys.list().map((k) => k.key);
    this.digests = this.keys.map(secretDigest);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The matching configured key, compared in constant time against every key. */
  match(candidate: string): string | undefined {
    const i = findSecret(candidate, this.digests);
    return i >= 0 ? this.keys[i] : undefined;
  }
}
