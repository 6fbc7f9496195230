/**
 * The OnDemand API-key pool over `store.credentials` (provider "ondemand") with a circuit breaker per key:
 *
 * - closed (`ok`): usable; requests rotate over the usable keys, fewest in flight first, round-robin on ties;
 * - open: `bad` after 401/403 (rests `bad_key_probe_seconds`, doubling per consecutive failure up to 10 min) or
 *   `cooling` after 429 (rests for the upstream's Retry-After, else `cooldown_seconds`);
 * - half-open: once its rest is over a key takes the next request (one at a time, before the closed keys); the
 *   session create that request starts with is the probe: success closes the breaker (`ok`), a key failure opens
 *   it again for longer and the request moves on to the next key.
 *
 * State, rest end and failure count are persisted (they survive a restart); in-flight counts live in memory.
 * Waits are bounded: never longer than the queue wait, never after a failed key.
 *
 * Selection reads an in-memory copy of the pool (`CredentialSnapshot`: loaded at start, re-read on
 * `credentials.changed`); the pool's own changes patch the copy at once and reach the store fire-and-forget.
 */
import { TurnError } from "../../../core/turn/turn-error.ts";
import type { UpstreamFailure } from "../../../core/turn/upstream-failure.ts";
import type { CredentialRecord } from "../../../store/credentials-repo.ts";
import type { StoreApi } from "../../../store/store-api.ts";
import { CredentialSnapshot } from "../../credential-snapshot.ts";
import { ONDEMAND_PROVIDER_ID } from "../models.ts";

const MAX_PROBE_DELAY_MS = 600_000;

export interface KeyPoolTiming {
  /** First rest of a rejected (401/403) key; doubles per consecutive failure up to 10 minutes. */
  badKeyProbeMs: number;
  /** Rest of a rate-limited key when OnDemand sends no Retry-After. */
  cooldownMs: number;
  /** Longest a request waits for a resting key. */
  queueWaitMs: number;
}

export interface KeyLease {
  readonly id: string;
  readonly secret: string;
  /** The key was resting and this request probes it. */
  readonly probing: boolean;
  /** The key worked (closes a half-open breaker; counts one use). */
  succeed(): void;
  /** A key-attributable failure: open the breaker. */
  fail(failure: UpstreamFailure): void;
  /** A failure that is not the key's: only the error is noted. */
  note(message: string): void;
  release(): void;
}

export interface AcquireOptions {
  exclude: ReadonlySet<string>;
  /** After a failed key, never wait for another key's rest. */
  noWait: boolean;
  signal: AbortSignal;
}

/** Nothing to take after failures: the caller reports what went wrong with the tried keys. */
export class NoKeyLeftError extends Error {}

/** The key's effective state now (a rest that ended reads as half-open, shown as its stored state). */
export function restingUntil(r: CredentialRecord, now: number): number | undefined {
  if (r.state !== "cooling" && r.state !== "bad") return undefined;
  return r.cooldownUntil !== undefined && r.cooldownUntil > now ? r.cooldownUntil : undefined;
}

export class KeyPool {
  private readonly inflight = new Map<string, number>();
  private cursor = 0;
  private readonly entries: CredentialSnapshot;

  constructor(
    private readonly repo: StoreApi["credentials"],
    private readonly timing: () => KeyPoolTiming,
    private readonly now: () => number = Date.now,
    /** A fire-and-forget store write failed (the in-memory copy keeps the change). */
    private readonly onWriteError: (what: string, error: unknown) => void = () => {},
  ) {
    this.entries = new CredentialSnapshot(repo, ONDEMAND_PROVIDER_ID);
  }

  /** Load the pool's copy (at start), or re-read these keys / all of them (on `credentials.changed`). */
  reload(ids?: readonly string[]): Promise<void> {
    return this.entries.reload(ids);
  }

  /** Every key as the pool sees it now. */
  list(): readonly CredentialRecord[] {
    return this.entries.list();
  }

  private write(what: string, p: Promise<unknown>): void {
    void p.catch((e: unknown) => this.onWriteError(what, e));
  }

  /** The key works (a resting / rejected one is closed again). */
  markOk(id: string): void {
    const cur = this.entries.get(id);
    if (!cur || cur.state === "ok" || cur.state === "exhausted") return;
    this.entries.patch(id, { state: "ok", stateReason: undefined, cooldownUntil: undefined, failures: 0 });
    this.write("closing an OnDemand key's breaker", this.repo.setState(ONDEMAND_PROVIDER_ID, id, "ok"));
  }

  /** A failure that is not the key's: only the error is noted. */
  noteError(id: string, message: string): void {
    this.entries.patch(id, { lastError: message.slice(0, 500), lastErrorAt: this.now() });
    this.write("noting an OnDemand key's error", this.repo.recordError(ONDEMAND_PROVIDER_ID, id, message));
  }

  inflightOf(id: string): number {
    return this.inflight.get(id) ?? 0;
  }

  inUse(): number {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  private exhausted(r: CredentialRecord): boolean {
    return r.state === "exhausted" || (r.maxUsage !== undefined && r.maxUsage > 0 && r.usageCount >= r.maxUsage);
  }

  /** A usable key now: closed ones first (fewest in flight, round-robin), then a half-open one nobody is probing. */
  private pick(exclude: ReadonlySet<string>): { record: CredentialRecord; probing: boolean } | undefined {
    const now = this.now();
    const all = this.list();
    const candidates = all.filter((r) => r.enabled && !exclude.has(r.id) && !this.exhausted(r));
    const n = all.length || 1;
    const order = (r: CredentialRecord) => (all.indexOf(r) - this.cursor + n) % n;
    // A key whose rest is over is probed first (one request at a time), so breakers close while other keys serve.
    const halfOpen = candidates.filter((r) => (r.state === "cooling" || r.state === "bad") && restingUntil(r, now) === undefined && this.inflightOf(r.id) === 0);
    halfOpen.sort((a, b) => (a.cooldownUntil ?? 0) - (b.cooldownUntil ?? 0));
    if (halfOpen[0]) return { record: halfOpen[0], probing: true };
    const closed = candidates.filter((r) => r.state === "ok").sort((a, b) => this.inflightOf(a.id) - this.inflightOf(b.id) || order(a) - order(b));
    if (!closed[0]) return undefined;
    this.cursor = (all.indexOf(closed[0]) + 1) % n;
    return { record: closed[0], probing: false };
  }

  async acquire(opts: AcquireOptions): Promise<KeyLease> {
    const started = this.now();
    for (;;) {
      const got = this.pick(opts.exclude);
      if (got) return this.lease(got.record, got.probing);
      if (opts.noWait) throw new NoKeyLeftError("no other OnDemand key can take the request");
      const now = this.now();
      const enabled = this.list().filter((r) => r.enabled && !opts.exclude.has(r.id));
      if (enabled.length === 0) {
        throw new TurnError(503, "no OnDemand API key is configured or enabled (ONDEMAND_APIKEYS, config.json ondemand.api_keys, or the admin API)", "no_accounts", 30, "account");
      }
      const resting = enabled.map((r) => ({ r, until: restingUntil(r, now) })).filter((x): x is { r: CredentialRecord; until: number } => x.until !== undefined);
      if (resting.length === 0) {
        // Every enabled key is exhausted, or a half-open key is being probed right now.
        if (enabled.every((r) => this.exhausted(r))) throw new TurnError(429, "every OnDemand API key reached its usage cap; reset usage in the admin API", "rate_limit_exceeded", 60, "account");
        if (this.now() - started >= this.timing().queueWaitMs) throw new TurnError(503, "no OnDemand API key became free within the queue wait limit", "accounts_unavailable", 5, "account");
        await sleep(50, opts.signal);
        continue;
      }
      const first = Math.min(...resting.map((x) => x.until));
      const waitMs = first - now;
      const allRateLimited = resting.every((x) => x.r.state === "cooling") && resting.length === enabled.length;
      if (now + waitMs - started > this.timing().queueWaitMs) {
        const secs = Math.max(1, Math.ceil(waitMs / 1000));
        const msg = `no OnDemand API key can take the request: ${resting.length} resting (rejected or rate limited); back in about ${secs} s`;
        throw allRateLimited ? new TurnError(429, msg, "rate_limit_exceeded", secs, "account") : new TurnError(503, msg, "accounts_unavailable", secs, "account");
      }
      await sleep(Math.max(10, waitMs), opts.signal);
    }
  }

  private lease(record: CredentialRecord, probing: boolean): KeyLease {
    const id = record.id;
    this.inflight.set(id, this.inflightOf(id) + 1);
    let released = false;
    let used = false;
    return {
      id,
      secret: record.secret,
      probing,
      succeed: () => {
        if (!used) {
          used = true;
          this.entries.patch(id, (cur) => ({ usageCount: cur.usageCount + 1, lastUsedAt: this.now() }));
          this.write("counting an OnDemand key's use", this.repo.recordUse(ONDEMAND_PROVIDER_ID, id));
        }
        this.markOk(id);
      },
      fail: (f) => this.open(id, f),
      note: (message) => this.noteError(id, message),
      release: () => {
        if (released) return;
        released = true;
        const left = this.inflightOf(id) - 1;
        if (left > 0) this.inflight.set(id, left);
        else this.inflight.delete(id);
      },
    };
  }

  /** Open the key's breaker for a key-attributable failure. */
  open(id: string, f: UpstreamFailure): void {
    const current = this.entries.get(id);
    if (!current) return;
    const failures = current.failures + 1;
    const t = this.timing();
    const now = this.now();
    const state = f.penalty === "rate_limited" ? "cooling" : "bad";
    const ms =
      state === "cooling"
        ? Math.max(f.retryAfterSeconds !== undefined ? f.retryAfterSeconds * 1000 : t.cooldownMs, 1)
        : Math.min(t.badKeyProbeMs * 2 ** Math.min(failures - 1, 10), MAX_PROBE_DELAY_MS);
    const cooldownUntil = now + ms;
    this.entries.patch(id, { state, stateReason: f.message, cooldownUntil, failures });
    this.write("opening an OnDemand key's breaker", this.repo.setState(ONDEMAND_PROVIDER_ID, id, state, f.message, { cooldownUntil, failures }));
    this.noteError(id, f.message);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
