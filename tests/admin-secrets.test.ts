/**
 * The admin key and the admin JWTs on the async store: secrets read once at start and kept in memory (a request's
 * credential check reads no setting), made once under the start-up lock, and following changes made elsewhere
 * (another instance, a transaction) through `settings.changed`.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { InProcessChangeBus } from "../src/core/changes/change-bus.ts";
import { AdminJwt } from "../src/security/admin-jwt.ts";
import { AdminKey, hashAdminPassword } from "../src/security/admin-key.ts";
import { sha256Hex } from "../src/security/secret-compare.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { openStore } from "../src/store/open-store.ts";
import { tempDir } from "./support/test-server.ts";
import { storeWith } from "./support/store-with.ts";

const opened: StoreApi[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function freshStore(): Promise<StoreApi> {
  const s = await openStore({ sqlitePath: join(tempDir("ds2api-admin-secrets-"), "db.sqlite") });
  opened.push(s);
  return s;
}

/** The same store, counting setting reads (and refusing them while `closed`). */
function counting(api: StoreApi): { store: StoreApi; reads: () => number; refuse: (on: boolean) => void } {
  let reads = 0;
  let refusing = false;
  const settings: StoreApi["settings"] = {
    get: <T,>(key: string) => {
      reads++;
      if (refusing) return Promise.reject(new Error(`store read of ${key} on the request path`));
      return api.settings.get<T>(key);
    },
    set: (key, value) => api.settings.set(key, value),
    delete: (key) => api.settings.delete(key),
    all: () => api.settings.all(),
    conceal: (key, value) => api.settings.conceal(key, value),
  };
  return { store: storeWith(api, { settings }), reads: () => reads, refuse: (on) => (refusing = on) };
}

describe("admin key", () => {
  test("the first-start key is made once under the start-up lock; a second instance on the same store accepts it and makes none", async () => {
    const api = await freshStore();
    let locks = 0;
    const store = storeWith(api, { withStartupLock: (fn) => (locks++, api.withStartupLock(fn)) });
    const first = await store.withStartupLock(async () => (await AdminKey.load(store, undefined)).ensure());
    expect(first.generatedKey).toMatch(/^ds2-admin-/);
    const b = await AdminKey.load(store, undefined);
    expect(await store.withStartupLock(() => b.ensure())).toEqual({});
    expect(locks).toBe(2);
    expect(await b.verify(first.generatedKey)).toBe(true);
    expect(await b.verify("ds2-admin-wrong")).toBe(false);
    expect(await api.settings.get<string>("admin_generated_key_sha256")).toBe(sha256Hex(first.generatedKey!));
  });

  test("checking a credential reads no setting: the secrets are in memory", async () => {
    const api = await freshStore();
    const hash = await hashAdminPassword("console-password-1");
    await api.settings.set("admin", { password_hash: hash });
    const c = counting(api);
    const key = await AdminKey.load(c.store, "env-admin-key");
    const atStart = c.reads();
    c.refuse(true);
    expect(await key.verify("env-admin-key")).toBe(true);
    expect(await key.verify("console-password-1")).toBe(true);
    expect(await key.verify("nope-nope-nope")).toBe(false);
    expect(key.accepted()).toEqual(["env", "password"]);
    expect(key.source()).toBe("env");
    expect(c.reads()).toBe(atStart);
  });

  test("a password set elsewhere (another instance, a transaction) is taken up on settings.changed", async () => {
    const store = await freshStore();
    const bus = new InProcessChangeBus((e) => {
      throw e;
    });
    const a = await AdminKey.load(store, undefined);
    await a.ensure();
    a.follow(bus);
    expect(a.source()).toBe("generated");
    const b = await AdminKey.load(store, undefined);
    await store.transaction(async (tx) => b.setPasswordHash(await hashAdminPassword("new-console-pass"), tx));
    // Not yet announced: a still has the state it loaded.
    expect(await a.verify("new-console-pass")).toBe(false);
    bus.publish({ topic: "settings.changed", ids: ["runtime"] }); // not about the admin secrets: no reload
    await bus.settled();
    expect(a.source()).toBe("generated");
    bus.publish({ topic: "settings.changed", ids: ["admin"] });
    await bus.settled();
    expect(a.source()).toBe("password");
    expect(await a.verify("new-console-pass")).toBe(true);
  });

  test("a legacy sha256 console password works and is upgraded to argon2id in the store on the first login", async () => {
    const store = await freshStore();
    await store.settings.set("admin", { password_hash: `sha256:${sha256Hex("legacy-pass-123")}`, jwt_expire_hours: 5 });
    const key = await AdminKey.load(store, undefined);
    expect(await key.verify("legacy-pass-123")).toBe(true);
    const stored = await store.settings.get<{ password_hash: string; jwt_expire_hours: number }>("admin");
    expect(stored!.password_hash).toMatch(/^\$argon2id\$/);
    expect(stored!.jwt_expire_hours).toBe(5);
    expect(await key.verify("legacy-pass-123")).toBe(true);
    expect(await key.verify("legacy-pass-12")).toBe(false);
  });
});

describe("admin JWT", () => {
  test("instances on the same store share one signing secret; verifying reads no setting", async () => {
    const api = await freshStore();
    const a = await api.withStartupLock(() => AdminJwt.open(api, undefined));
    const c = counting(api);
    const b = await AdminJwt.open(c.store, undefined);
    const atStart = c.reads();
    c.refuse(true);
    const { token } = await a.sign(1);
    expect(await b.verify(token)).toMatchObject({ ok: true });
    expect(b.defaultExpireHours()).toBe(24);
    expect(c.reads()).toBe(atStart);
  });

  test("revokeAll inside a transaction revokes once committed and announced; without one, at once", async () => {
    const store = await freshStore();
    let now = Date.now();
    const bus = new InProcessChangeBus((e) => {
      throw e;
    });
    const jwt = await AdminJwt.open(store, undefined, () => now);
    jwt.follow(bus);
    const old = (await jwt.sign(1)).token;
    now += 5;
    const cutoff = await store.transaction((tx) => jwt.revokeAll(tx));
    expect(cutoff).toBe(Math.floor(now / 1000));
    expect(await jwt.verify(old)).toMatchObject({ ok: true }); // the change is not announced yet
    bus.publish({ topic: "settings.changed", ids: ["admin"] });
    await bus.settled();
    expect(await jwt.verify(old)).toMatchObject({ ok: false, reason: expect.stringContaining("revoked") });
    now += 5;
    const fresh = (await jwt.sign(1)).token;
    expect(await jwt.verify(fresh)).toMatchObject({ ok: true });
    now += 5;
    await jwt.revokeAll();
    expect(await jwt.verify(fresh)).toMatchObject({ ok: false, reason: expect.stringContaining("revoked") });
  });
});
