/**
 * Change events: what an admin write (or, later, another node of a cluster) tells the in-memory views that read
 * the store — the account pool, the API-key index, the settings cache, the key-usage tracker. Writers publish
 * after their transaction committed; views subscribe once, at composition (src/server.ts), and are never refreshed
 * by hand. `ChangeBus` is the seam: `InProcessChangeBus` delivers synchronously in this process; a Redis-backed bus
 * can implement the same interface (publish locally and to a channel, deliver what other nodes publish).
 */

export type ChangeTopic = "accounts.changed" | "keys.changed" | "settings.changed" | "proxies.changed" | "credentials.changed";

export interface ChangeEvent {
  topic: ChangeTopic;
  /**
   * What changed (accounts: identifiers; keys: key hashes; settings: setting keys; proxies: proxy ids; credentials:
   * `provider/id`). Absent: anything under the topic may have changed (an import, a replace) — reread it all.
   */
  ids?: readonly string[];
  /** Of `ids`, those that no longer exist (deleted). */
  removed?: readonly string[];
}

/**
 * Told the events of one `publish` call that match its topics, in publish order, once per call. A listener that
 * reloads a view from the store returns the reload's promise; `settled()` waits for it.
 */
export type ChangeListener = (events: readonly ChangeEvent[]) => void | Promise<void>;

export interface ChangePublisher {
  /** Announce changes that are already committed. Events published together are delivered together. */
  publish(...events: ChangeEvent[]): void;
  /**
   * Resolves when the work the listeners started for every publish so far (async view reloads) has finished,
   * failed ones included (they are reported to the bus's error handler). An admin write awaits it before answering,
   * so what it added is served by the very next request.
   */
  settled(): Promise<void>;
}

export interface ChangeSubscriber {
  /** Listen to these topics; returns the unsubscribe function. Listeners run in subscription order. */
  subscribe(topics: readonly ChangeTopic[], listener: ChangeListener): () => void;
}

export interface ChangeBus extends ChangePublisher, ChangeSubscriber {}

interface Subscription {
  topics: ReadonlySet<ChangeTopic>;
  listener: ChangeListener;
}

/**
 * Synchronous delivery: when `publish` returns, every subscriber has applied the change (an account added through
 * the admin API is served by the very next request). A throwing listener is reported to `onError` and does not
 * keep the others from running — the write it follows is committed either way.
 */
export class InProcessChangeBus implements ChangeBus {
  private subscriptions: Subscription[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly onError: (error: unknown, events: readonly ChangeEvent[]) => void = () => {}) {}

  subscribe(topics: readonly ChangeTopic[], listener: ChangeListener): () => void {
    const sub: Subscription = { topics: new Set(topics), listener };
    this.subscriptions = [...this.subscriptions, sub];
    return () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== sub);
    };
  }

  publish(...events: ChangeEvent[]): void {
    if (events.length === 0) return;
    for (const sub of this.subscriptions) {
      const mine = events.filter((e) => sub.topics.has(e.topic));
      if (mine.length === 0) continue;
      try {
        const work = sub.listener(mine);
        if (work) this.track(work, mine);
      } catch (e) {
        this.onError(e, mine);
      }
    }
  }

  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private track(work: Promise<void>, events: readonly ChangeEvent[]): void {
    const done: Promise<void> = work.then(
      () => {
        this.pending.delete(done);
      },
      (e: unknown) => {
        this.pending.delete(done);
        this.onError(e, events);
      },
    );
    this.pending.add(done);
  }
}

/** The ids of these events, or undefined when one of them covers everything. */
export function changedIds(events: readonly ChangeEvent[]): { ids: Set<string>; removed: Set<string> } | undefined {
  const ids = new Set<string>();
  const removed = new Set<string>();
  for (const e of events) {
    if (!e.ids) return undefined;
    for (const id of e.ids) ids.add(id);
    for (const id of e.removed ?? []) removed.add(id);
  }
  return { ids, removed };
}
