/**
 * Stored Responses API turns shared by the cluster (`previous_response_id` from one instance continues on another):
 * `resp:<id>` = JSON `{callerId, response, conversation}` with PX = the TTL in force when stored. A caller only
 * reads its own: another caller's id reads as unknown.
 */
import type { ResponseStorePort } from "../core/cluster/ports.ts";
import type { RedisConnection } from "./redis-connection.ts";

type Msg = Record<string, unknown>;

interface Stored {
  callerId: string;
  response: Msg;
  conversation: Msg[];
}

function isStored(v: unknown): v is Stored {
  const o = v as Partial<Stored> | null;
  return typeof o === "object" && o !== null && typeof o.callerId === "string" && typeof o.response === "object" && o.response !== null && Array.isArray(o.conversation);
}

export class RedisResponseStore implements ResponseStorePort {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
    private readonly ttlMs: () => number,
  ) {}

  async put(id: string, callerId: string, response: Msg, conversation: Msg[]): Promise<void> {
    const ttl = Math.floor(this.ttlMs());
    if (!(ttl > 0)) return; // kept for no time at all: nothing to store
    const value: Stored = { callerId, response, conversation };
    await this.conn.call("SET", [this.key(id), JSON.stringify(value), "PX", String(ttl)]);
  }

  async get(id: string, callerId: string): Promise<{ response: Msg; conversation: Msg[] } | undefined> {
    const raw = await this.conn.call<string | null>("GET", [this.key(id)]);
    if (!raw) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return undefined;
    }
    if (!isStored(v) || v.callerId !== callerId) return undefined;
    return { response: v.response, conversation: v.conversation };
  }

  private key(id: string): string {
    return `${this.prefix}resp:${id}`;
  }
}
