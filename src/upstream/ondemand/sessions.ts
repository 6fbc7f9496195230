/**
 * OnDemand sessions, one per API key (never shared between keys), reused until they have been idle for the
 * session TTL (the Go adapter's 600 s idle timeout, §B.3.1); TTL 0 = a new session for every request. A session
 * is dropped when its key fails or when OnDemand no longer knows it (404 on query). Creation is single-flight
 * per key, so concurrent requests on a cold key create one session, not one each.
 */

interface Entry {
  id: string;
  lastUsed: number;
}

export class SessionCache {
  private readonly byKey = new Map<string, Entry>();
  private readonly creating = new Map<string, Promise<string>>();

  constructor(private readonly ttlMs: () => number) {}

  /** The key's live session, or a new one from `create` (which is not cached when the TTL is 0). */
  async get(keyId: string, create: () => Promise<string>): Promise<{ id: string; fresh: boolean }> {
    const ttl = this.ttlMs();
    if (ttl <= 0) return { id: await create(), fresh: true };
    const now = Date.now();
    const e = this.byKey.get(keyId);
    if (e && now - e.lastUsed < ttl) {
      e.lastUsed = now;
      return { id: e.id, fresh: false };
    }
    this.byKey.delete(keyId);
    let pending = this.creating.get(keyId);
    if (!pending) {
      pending = create().finally(() => this.creating.delete(keyId));
      this.creating.set(keyId, pending);
      pending.then((id) => this.byKey.set(keyId, { id, lastUsed: Date.now() })).catch(() => {});
    }
    return { id: await pending, fresh: true };
  }

  /** Forget a key's session (its key failed, or OnDemand answered 404 for it). */
  drop(keyId: string, sessionId?: string): void {
    const e = this.byKey.get(keyId);
    if (e && (sessionId === undefined || e.id === sessionId)) this.byKey.delete(keyId);
  }

  clear(): void {
    this.byKey.clear();
  }

  size(): number {
    return this.byKey.size;
  }
}
