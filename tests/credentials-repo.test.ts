/** The key-style credential pools of non-DeepSeek providers: sealed secrets, stable ids, usage and states that survive a reopen. */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { credentialPreview } from "../src/store/credentials-repo.ts";
import { openStore } from "../src/store/open-store.ts";
import type { Store } from "../src/store/store.ts";
import { tempDir } from "./support/test-server.ts";

const WEB_ID = "7312948845127736601";
const AUTH = "Bearer volc-per-entry-authorization-0123456789";

describe("provider credentials repo", () => {
  let dir: string | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  test("secrets are sealed on disk, ids are stable keyed hashes, one secret is one entry per provider", async () => {
    dir = tempDir();
    const path = join(dir, "db.sqlite");
    store = await openStore({ sqlitePath: path });
    const first = await store.credentials.upsert("volcengine", { secret: WEB_ID, auth: AUTH, label: "a", maxUsage: 5 });
    const again = await store.credentials.upsert("volcengine", { secret: WEB_ID, label: "renamed" });
    const other = await store.credentials.upsert("ondemand", { secret: WEB_ID });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(other.id).not.toBe(first.id);
    expect(first.id).not.toContain(WEB_ID.slice(0, 6));
    const rec = (await store.credentials.get("volcengine", first.id))!;
    expect(rec).toMatchObject({ secret: WEB_ID, auth: AUTH, label: "renamed", maxUsage: 5, preview: credentialPreview(WEB_ID), state: "ok", usageCount: 0 });
    expect(rec.preview).toBe("73****01");
    expect((await store.credentials.list("volcengine")).map((c) => c.id)).toEqual([first.id]);
    await store.close();
    store = undefined;
    const bytes = Buffer.concat([readFileSync(path), ...["-wal"].flatMap((s) => { try { return [readFileSync(path + s)]; } catch { return []; } })]).toString("latin1");
    expect(bytes).not.toContain(WEB_ID);
    expect(bytes).not.toContain("volc-per-entry-authorization");
  });

  test("usage, states, reset and enable survive a reopen", async () => {
    dir = tempDir();
    const path = join(dir, "db.sqlite");
    store = await openStore({ sqlitePath: path });
    const a = (await store.credentials.upsert("ondemand", { secret: "od-key-aaaaaaaaaaaaaaaa" })).id;
    const b = (await store.credentials.upsert("ondemand", { secret: "od-key-bbbbbbbbbbbbbbbb" })).id;
    expect(await store.credentials.recordUse("ondemand", a)).toBe(1);
    expect(await store.credentials.recordUse("ondemand", a)).toBe(2);
    await store.credentials.setState("ondemand", a, "exhausted", "max usage 2 reached");
    await store.credentials.setState("ondemand", b, "cooling", "401 from upstream", { cooldownUntil: Date.now() + 60_000, failures: 3 });
    await store.credentials.recordError("ondemand", b, "401 from upstream");
    await store.credentials.setEnabled("ondemand", b, false);
    await store.close();
    store = await openStore({ sqlitePath: path });
    expect(await store.credentials.get("ondemand", a)).toMatchObject({ usageCount: 2, state: "exhausted", stateReason: "max usage 2 reached" });
    expect(await store.credentials.get("ondemand", b)).toMatchObject({ state: "cooling", failures: 3, enabled: false, lastError: "401 from upstream" });
    expect(await store.credentials.resetUsage("ondemand")).toBe(2);
    expect(await store.credentials.get("ondemand", a)).toMatchObject({ usageCount: 0, state: "ok" });
    expect((await store.credentials.get("ondemand", b))!.state).toBe("cooling"); // a reset does not heal a rejected key
    await store.credentials.setState("ondemand", b, "ok");
    expect(await store.credentials.get("ondemand", b)).toMatchObject({ state: "ok", failures: 0 });
    expect((await store.credentials.get("ondemand", b))!.cooldownUntil).toBeUndefined();
    expect(await store.credentials.remove("ondemand", a)).toBe(true);
    expect(await store.credentials.count("ondemand")).toBe(1);
  });
});
