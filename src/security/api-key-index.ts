/**
 * The configured client API keys, by their stored keyed hash (the raw keys are not kept anywhere). A
 * match answers the key's hash, which is the key's identity everywhere after authentication (usage,
 * quotas, caller id). The admin console's self-test and playground call this server's own business routes
 * over loopback with a per-process credential bound to one key's hash (`loopbackCredential`), since the raw
 * key can no longer be read back; such credentials live only in memory.
 */
import { randomBytes } from "node:crypto";
import type { StoreApi } from "../store/store-api.ts";
import { findSecret, secretDigest } from "./secret-compare.ts";

export class ApiKeyIndex {
  private hashes = new Set<string>();
  private readonly loopback = new Map<string, string>();
  private loopbackDigests: Buffer[] = [];
  private loopbackHashes: string[] = [];

  constructor(private readonly store: Pick<StoreApi, "apiKeys">) {}

  /** Read every key (at start, and when a change names none). Until it lands the previous set serves. */
  async reload(): Promise<void> {
    this.hashes = new Set((await this.store.apiKeys.list()).map((k) => k.hash));
  }

  /** Re-read just these keys (by hash): one indexed read each; `removed` ones leave without a read. */
  async refresh(hashes: Iterable<string>, removed: ReadonlySet<string> = new Set()): Promise<void> {
    const wanted = [...hashes];
    const found = await Promise.all(wanted.map((hash) => (removed.has(hash) ? undefined : this.store.apiKeys.get(hash))));
    const next = new Set(this.hashes);
    wanted.forEach((hash, i) => {
      if (found[i]) next.add(hash);
      else next.delete(hash);
    });
    this.hashes = next;
  }

  get size(): number {
    return this.hashes.size;
  }

  /** The matching key's hash, or undefined. */
  match(candidate: string): string | undefined {
    const hash = this.store.apiKeys.hashOf(candidate);
    if (this.hashes.has(hash)) return hash;
    if (this.loopbackDigests.length) {
      const i = findSecret(candidate, this.loopbackDigests);
      const bound = i >= 0 ? this.loopbackHashes[i] : undefined;
      if (bound && this.hashes.has(bound)) return bound;
    }
    return undefined;
  }

  /** An in-memory credential that authenticates as the key with this hash (for loopback calls). */
  loopbackCredential(hash: string): string {
    let credential = this.loopback.get(hash);
    if (!credential) {
      credential = `ds2-loopback-${randomBytes(24).toString("base64url")}`;
      this.loopback.set(hash, credential);
      this.loopbackDigests.push(secretDigest(credential));
      this.loopbackHashes.push(hash);
    }
    return credential;
  }
}
