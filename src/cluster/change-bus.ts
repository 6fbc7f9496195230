/**
 * The change bus of a cluster: `publish` delivers to this instance's listeners first, synchronously (exactly like
 * InProcessChangeBus: an admin write is served by the very next request here), then PUBLISHes `{origin, events}` on
 * `<prefix>changes`. Events from other instances reach the same listeners (own messages are ignored: already
 * delivered). When the subscriber comes back after an outage, every topic is delivered without ids ("reread all"):
 * what was published meanwhile is lost. Redis down never breaks a write: local delivery still happens and the
 * failed remote publish goes to `onError`.
 */
import { InProcessChangeBus, type ChangeBus, type ChangeEvent, type ChangeListener, type ChangeTopic } from "../core/changes/change-bus.ts";
import type { RedisConnection } from "./redis-connection.ts";

const TOPIC_SET: Record<ChangeTopic, true> = {
  "accounts.changed": true,
  "keys.changed": true,
  "settings.changed": true,
  "proxies.changed": true,
  "credentials.changed": true,
};
export const ALL_TOPICS = Object.keys(TOPIC_SET) as ChangeTopic[];

function isTopic(v: unknown): v is ChangeTopic {
  return typeof v === "string" && Object.hasOwn(TOPIC_SET, v);
}

function stringList(v: unknown): readonly string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
}

/** The events of a message from another instance; malformed entries are dropped. */
export function parseRemote(message: string): { origin: string; events: ChangeEvent[] } | undefined {
  let m: { origin?: unknown; events?: unknown };
  try {
    m = JSON.parse(message) as typeof m;
  } catch {
    return undefined;
  }
  if (typeof m.origin !== "string" || !Array.isArray(m.events)) return undefined;
  const events: ChangeEvent[] = [];
  for (const raw of m.events as { topic?: unknown; ids?: unknown; removed?: unknown }[]) {
    if (!raw || !isTopic(raw.topic)) continue;
    const ids = raw.ids === undefined ? undefined : stringList(raw.ids);
    if (raw.ids !== undefined && !ids) {
      events.push({ topic: raw.topic }); // unreadable ids: reread the topic
      continue;
    }
    const removed = stringList(raw.removed);
    events.push({ topic: raw.topic, ...(ids ? { ids } : {}), ...(ids && removed ? { removed } : {}) });
  }
  return { origin: m.origin, events };
}

export interface RedisChangeBusOptions {
  conn: RedisConnection;
  prefix: string;
  instanceId: string;
  /** A listener failed, or the remote publish failed (Redis down: the other instances resync when it is back). */
  onError: (error: unknown, events: readonly ChangeEvent[]) => void;
}

export class RedisChangeBus implements ChangeBus {
  private readonly local: InProcessChangeBus;
  private stopListening: (() => void) | undefined;
  private stopResync: (() => void) | undefined;
  private pendingRemote = new Set<Promise<unknown>>();
  /** Topics whose remote publish failed: announced again (without ids) once the command connection is back. */
  private unsent = new Set<ChangeTopic>();
  private stopReconnected: (() => void) | undefined;

  constructor(private readonly o: RedisChangeBusOptions) {
    this.local = new InProcessChangeBus(o.onError);
  }

  private get channel(): string {
    return `${this.o.prefix}changes`;
  }

  async start(): Promise<void> {
    this.stopListening = await this.o.conn.subscribe(this.channel, (message) => {
      const m = parseRemote(message);
      if (!m || m.origin === this.o.instanceId || m.events.length === 0) return;
      this.local.publish(...m.events);
    });
    this.stopResync = this.o.conn.onResubscribed(() => this.local.publish(...ALL_TOPICS.map((topic) => ({ topic }))));
    // Instances whose subscriber never dropped (only our link did) missed what we could not send: tell them to reread.
    this.stopReconnected = this.o.conn.onReconnected(() => this.flushUnsent());
  }

  private flushUnsent(): void {
    if (this.unsent.size === 0) return;
    const events: ChangeEvent[] = [...this.unsent].map((topic) => ({ topic }));
    this.unsent.clear();
    this.sendRemote(events);
  }

  stop(): void {
    this.stopListening?.();
    this.stopResync?.();
    this.stopReconnected?.();
  }

  subscribe(topics: readonly ChangeTopic[], listener: ChangeListener): () => void {
    return this.local.subscribe(topics, listener);
  }

  publish(...events: ChangeEvent[]): void {
    if (events.length === 0) return;
    this.local.publish(...events);
    this.sendRemote(events);
  }

  private sendRemote(events: readonly ChangeEvent[]): void {
    const body = JSON.stringify({ origin: this.o.instanceId, events });
    const sent: Promise<unknown> = this.o.conn.publish(this.channel, body).then(
      () => this.pendingRemote.delete(sent),
      (e: unknown) => {
        this.pendingRemote.delete(sent);
        for (const ev of events) this.unsent.add(ev.topic);
        this.o.onError(e, events);
      },
    );
    this.pendingRemote.add(sent);
  }

  /** Local reloads finished, and every remote publish so far was sent (or failed and was reported). */
  async settled(): Promise<void> {
    await Promise.all([...this.pendingRemote]);
    await this.local.settled();
  }
}
