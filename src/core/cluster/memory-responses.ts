/**
 * Stored Responses API turns in this process's memory (one instance): kept per caller for
 * `GET /v1/responses/{id}` and `previous_response_id`, dropped after a TTL read at every write, lost on restart.
 * Several instances keep them in Redis instead (src/cluster/), behind the same port.
 */
import type { ResponseStorePort } from "./ports.ts";

type Msg = Record<string, unknown>;

interface Entry {
  callerId: string;
  expiresAt: number;
  response: Msg;
  /** The chat-form conversation including this response's output. */
  conversation: Msg[];
}

export class MemoryResponseStore implements ResponseStorePort {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Drops expired entries; Map order is insertion order, so the oldest come first. */
  private sweep(now: number): void {
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
  }

  async put(id: string, callerId: string, response: Msg, conversation: Msg[]): Promise<void> {
    const now = this.now();
    this.sweep(now);
    this.entries.delete(id);
    this.entries.set(id, { callerId, expiresAt: now + this.ttlMs(), response, conversation });
  }

  async get(id: string, callerId: string): Promise<{ response: Msg; conversation: Msg[] } | undefined> {
    this.sweep(this.now());
    const e = this.entries.get(id);
    return e && e.callerId === callerId ? { response: e.response, conversation: e.conversation } : undefined;
  }

  /** Entries held (tests). */
  get size(): number {
    return this.entries.size;
  }
}
