/** The post-burst collection (src/runtime/idle-gc.ts): once per burst, only when nothing is in flight. */
import { afterEach, describe, expect, test } from "bun:test";
import { startIdleGc } from "../src/runtime/idle-gc.ts";

const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("idle GC", () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  test("collects once after a burst has gone quiet, not again while the server stays idle", async () => {
    let served = 0;
    let collections = 0;
    const gc = startIdleGc({ inFlight: () => 0, served: () => served, quietMs: 30, minRequests: 5, collect: () => collections++ });
    stop = gc.stop;
    served = 20;
    await waitFor(() => collections === 1, "the collection after the burst");
    // Several more check intervals pass with no new requests: still one collection.
    let checks = 0;
    await waitFor(() => ++checks > 20, "idle intervals");
    expect(collections).toBe(1);
    served = 40;
    await waitFor(() => collections === 2, "the collection after a second burst");
  });

  test("never collects while requests are in flight, and not for a handful of requests", async () => {
    let inFlight = 3;
    let served = 0;
    let collections = 0;
    const gc = startIdleGc({ inFlight: () => inFlight, served: () => served, quietMs: 30, minRequests: 10, collect: () => collections++ });
    stop = gc.stop;
    served = 50;
    let checks = 0;
    await waitFor(() => ++checks > 20, "busy intervals");
    expect(collections).toBe(0);
    inFlight = 0;
    await waitFor(() => collections === 1, "the collection once quiet");
    served += 3; // fewer than minRequests since the last collection
    checks = 0;
    await waitFor(() => ++checks > 20, "quiet intervals");
    expect(collections).toBe(1);
  });
});
