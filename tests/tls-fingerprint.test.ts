/**
 * The gateway dials DeepSeek with the chosen real client's TLS fingerprint and header order, proven offline:
 * a local TLS server (self-signed certificate) reads each ClientHello and computes JA3/JA4, then forwards the
 * decrypted requests to the simulator. The gateway runs as a child process pointed at it with
 * DS2API_DEEPSEEK_BASE_URL=https://localhost:PORT and the test-only loopback trust switch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Impit } from "impit";
import { startSimulator, type RunningSimulator } from "../src/sim/index.ts";
import { DEFAULT_CLIENT_IDENTITY, requestHeaders, shapeForProfile } from "../src/upstream/deepseek/identity.ts";
import { IMPIT_BROWSER, type NativeTlsProfile, type TlsProfile } from "../src/upstream/transport/tls-profile.ts";
import { UpstreamTransport } from "../src/upstream/transport/upstream-transport.ts";
import { OptionsError, resolveOptions } from "../src/config/options.ts";
import { ConfigError, parseDs2ApiConfig } from "../src/config/ds2api-config.ts";
import { startFingerprintServer, type FingerprintServer, type RequestHead } from "./support/tls-fingerprint-server.ts";
import { sourceCommand, spawnServer, type SpawnedServer } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";

const API_KEY = "sk-tls-test";
const ADMIN = "tls-admin";
const ACCOUNT = { email: "tls@example.com", password: "pw-tls" };
const CREATE_SESSION = "/api/v0/chat_session/create";

let sim: RunningSimulator;
let fp: FingerprintServer;

const SLOW = { timeout: 60_000 };

beforeAll(async () => {
  sim = await startSimulator({ powDifficulty: 500, accounts: [ACCOUNT] });
  fp = await startFingerprintServer({ origin: sim.url });
}, 60_000);
afterAll(async () => {
  await fp?.stop();
  await sim?.stop();
});

/** Env of a gateway child pointed at the fingerprint server. */
function gatewayEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DS2API_ADMIN_KEY: ADMIN,
    DS2API_DB_PATH: join(dir, "db.sqlite"),
    DS2API_CONFIG_JSON: JSON.stringify({ keys: [API_KEY], accounts: [ACCOUNT] }),
    DS2API_DEEPSEEK_BASE_URL: fp.url,
    DS2API_POW_WORKERS: "1",
    DS2API_TEST_MODE: "1",
    DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK: "1",
    ...extra,
  };
}

/** One streamed completion through the gateway; returns the text it streamed. */
async function streamedChat(url: string, content: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content }] }),
  });
  return { status: r.status, text: await r.text() };
}

/** The JA4 of the next ClientHello the fingerprint server sees while `run` executes (it must open a new connection). */
async function ja4During(run: () => Promise<unknown>): Promise<string[]> {
  const before = fp.hellos.length;
  await run();
  // The ClientHello is parsed asynchronously: wait for it, never a fixed delay.
  const deadline = Date.now() + 10_000;
  while (fp.hellos.length === before && Date.now() < deadline) await Bun.sleep(10);
  return fp.hellos.slice(before).map((h) => h.ja4);
}

/** JA4 of impit itself with the profile's browser (the library called directly, no gateway). */
async function libraryJa4(profile: NativeTlsProfile): Promise<string> {
  const [ja4] = await ja4During(async () => {
    const r = await new Impit({ browser: IMPIT_BROWSER[profile], ignoreTlsErrors: true }).fetch(`${fp.url}/api/v0/users/current`);
    await r.text();
  });
  return ja4!;
}

let bunPrint: string | undefined;
/** JA4 of Bun's own fetch (what `plain` must present); measured once (later fetches reuse the connection). */
async function bunJa4(): Promise<string> {
  if (bunPrint) return bunPrint;
  const [ja4] = await ja4During(async () => (await fetch(`${fp.url}/api/v0/users/current`, { tls: { rejectUnauthorized: false }, keepalive: false } as RequestInit)).text());
  if (!ja4) throw new Error("Bun's fetch sent no ClientHello");
  return (bunPrint = ja4);
}

function lastHead(path: string): RequestHead {
  const h = fp.heads.filter((x) => x.path.startsWith(path)).at(-1);
  if (!h) throw new Error(`no request to ${path} reached the fingerprint server`);
  return h;
}

/** The header names the identity promises for `profile` (empty pairs remove a header and are not sent). */
function expectedOrder(profile: TlsProfile, token: boolean): string[] {
  return requestHeaders(DEFAULT_CLIENT_IDENTITY, shapeForProfile(profile), { token: token ? "t" : undefined, origin: fp.url })
    .filter(([, v]) => v !== "")
    .map(([k]) => k);
}

describe("the library's own fingerprints differ from Bun's", () => {
  test("okhttp, chrome and firefox each present a JA4 unlike Bun's fetch", async () => {
    const bun = await bunJa4();
    expect(bun).toMatch(/^t13d/);
    for (const p of ["okhttp", "chrome", "firefox"] as const) expect(await libraryJa4(p)).not.toBe(bun);
  }, SLOW);
});

describe("the gateway dials with the chosen profile", () => {
  let dir: string;
  let gw: SpawnedServer;

  beforeAll(async () => {
    dir = tempDir("ds2api-tls-gw-");
    gw = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: repoRoot, env: gatewayEnv(dir) });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const setProfile = async (profile: TlsProfile | null) => {
    const r = await fetch(`${gw.url}/admin/settings`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ upstream: { tls_profile: profile } }) });
    expect(r.status).toBe(200);
  };
  const readyTls = async () => ((await (await fetch(`${gw.url}/readyz`)).json()) as { providers: { deepseek: { tls: Record<string, unknown> } } }).providers.deepseek.tls;

  test("default okhttp: the JA4 of impit's okhttp4, not Bun's; the Android app's headers in OkHttp's order", async () => {
    expect(await readyTls()).toMatchObject({ requested: "okhttp", in_use: "okhttp", native: true, impersonates: "okhttp4" });
    const seen = await ja4During(async () => expect((await streamedChat(gw.url, "hello okhttp")).status).toBe(200));
    const lib = await libraryJa4("okhttp");
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([lib]));
    expect(lib).not.toBe(await bunJa4());
    // Header order: the identity's list first, exactly, then only what OkHttp itself adds.
    const head = lastHead(CREATE_SESSION);
    const names = head.headers.map(([k]) => k.toLowerCase());
    const want = expectedOrder("okhttp", true);
    expect(names.slice(0, want.length)).toEqual(want);
    expect(names.slice(want.length).sort()).toEqual(["accept-encoding", "content-length", "host"]);
    const h = Object.fromEntries(head.headers.map(([k, v]) => [k.toLowerCase(), v]));
    expect(h["user-agent"]).toBe(`DeepSeek/${DEFAULT_CLIENT_IDENTITY.version} Android/35`);
    expect(h["x-client-platform"]).toBe("android");
    expect(h["accept-encoding"]).toBe("gzip");
  }, SLOW);

  test("chrome (runtime setting): Chrome's JA4 and the web client's headers in Chrome's order, no navigation headers", async () => {
    await setProfile("chrome");
    expect(await readyTls()).toMatchObject({ requested: "chrome", in_use: "chrome", native: true });
    const seen = await ja4During(async () => expect((await streamedChat(gw.url, "hello chrome")).status).toBe(200));
    expect(new Set(seen)).toEqual(new Set([await libraryJa4("chrome")]));
    const head = lastHead(CREATE_SESSION);
    const names = head.headers.map(([k]) => k.toLowerCase());
    const want = expectedOrder("chrome", true);
    expect(names.filter((n) => n !== "host" && n !== "content-length")).toEqual(want);
    expect(names).not.toContain("upgrade-insecure-requests");
    expect(names).not.toContain("sec-fetch-user");
    const h = Object.fromEntries(head.headers.map(([k, v]) => [k.toLowerCase(), v]));
    expect(h["user-agent"]).toContain("Chrome/142.0.0.0");
    expect(h["sec-ch-ua"]).toContain('v="142"');
    expect(h["x-client-platform"]).toBe("web");
    expect(h["sec-fetch-mode"]).toBe("cors");
    // The login of a web client says so too (os: web), and the UA is the impit profile's own.
    const own = await new Impit({ browser: IMPIT_BROWSER.chrome, ignoreTlsErrors: true }).fetch(`${fp.url}/api/v0/users/current`);
    await own.text();
    expect(Object.fromEntries(fp.heads.at(-1)!.headers.map(([k, v]) => [k.toLowerCase(), v]))["user-agent"]).toBe(h["user-agent"]!);
  }, SLOW);

  test("firefox: Firefox's JA4 and header order", async () => {
    await setProfile("firefox");
    const seen = await ja4During(async () => expect((await streamedChat(gw.url, "hello firefox")).status).toBe(200));
    expect(new Set(seen)).toEqual(new Set([await libraryJa4("firefox")]));
    const names = lastHead(CREATE_SESSION).headers.map(([k]) => k.toLowerCase());
    expect(names.filter((n) => n !== "host" && n !== "content-length")).toEqual(expectedOrder("firefox", true));
  }, SLOW);

  test("safari: the ClientHello is iOS Safari's (this BoringSSL test server refuses that hello, so only the fingerprint is compared)", async () => {
    await setProfile("safari");
    expect(await readyTls()).toMatchObject({ requested: "safari", in_use: "safari", native: true, impersonates: "ios18" });
    const seen = await ja4During(() => streamedChat(gw.url, "hello safari"));
    const lib = (await ja4During(() => new Impit({ browser: IMPIT_BROWSER.safari, ignoreTlsErrors: true }).fetch(`${fp.url}/api/v0/users/current`).catch(() => undefined)))[0];
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([lib!]));
    expect(lib).not.toBe(await bunJa4());
  }, SLOW);

  test("plain: Bun's own fingerprint and the Android identity", async () => {
    await setProfile("plain");
    expect(await readyTls()).toMatchObject({ requested: "plain", in_use: "plain", native: false });
    const seen = await ja4During(async () => expect((await streamedChat(gw.url, "hello plain")).status).toBe(200));
    expect(new Set(seen)).toEqual(new Set([await bunJa4()]));
    const h = Object.fromEntries(lastHead(CREATE_SESSION).headers.map(([k, v]) => [k.toLowerCase(), v]));
    expect(h["x-client-platform"]).toBe("android");
  }, SLOW);

  test("a bad profile is refused with a clear admin error; the stored value is kept", async () => {
    const r = await fetch(`${gw.url}/admin/settings`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ upstream: { tls_profile: "netscape" } }) });
    expect(r.status).toBe(400);
    expect(typeof ((await r.json()) as { detail?: unknown }).detail).toBe("string");
    const view = (await (await fetch(`${gw.url}/admin/settings`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { upstream: { tls_profile: string | null; tls: { in_use: string } } };
    expect(view.upstream.tls_profile).toBe("plain");
    expect(view.upstream.tls.in_use).toBe("plain");
  }, SLOW);

  test("a WAF page is classified, blames no account, and names the TLS profile in use", async () => {
    await setProfile(null); // back to the default (okhttp)
    sim.state.script({ waf: { vendor: "cloudflare" } });
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", messages: [{ role: "user", content: "behind a waf" }] }),
    });
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(r.status).toBe(503);
    expect(body.error.code).toBe("upstream_waf");
    expect(body.error.message).toContain("TLS profile: okhttp (impersonating okhttp4)");
    const accounts = (await (await fetch(`${gw.url}/admin/accounts?page_size=100`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: { identifier: string; status: string }[] };
    expect(accounts.items.map((a) => a.status)).toEqual(["ok"]);
    sim.state.script({});
    expect((await streamedChat(gw.url, "after the waf")).status).toBe(200);
  }, SLOW);
});

describe("fallback when the native addon cannot load", () => {
  test("requested okhttp, in use plain: logged once, shown on /readyz, Bun's fingerprint, turns still served", async () => {
    const dir = tempDir("ds2api-tls-fb-");
    // impit's loader tries only this path when it is set: a missing file is a realistic load failure.
    const gw = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1"], { cwd: repoRoot, env: gatewayEnv(dir, { NAPI_RS_NATIVE_LIBRARY_PATH: join(dir, "missing-impit.node") }) });
    try {
      const seen = await ja4During(async () => expect((await streamedChat(gw.url, "hello fallback")).status).toBe(200));
      expect(new Set(seen)).toEqual(new Set([await bunJa4()]));
      await streamedChat(gw.url, "again");
      const tls = ((await (await fetch(`${gw.url}/readyz`)).json()) as { providers: { deepseek: { tls: Record<string, unknown> } } }).providers.deepseek.tls;
      expect(tls).toMatchObject({ requested: "okhttp", in_use: "plain", native: false });
      expect(String(tls.fallback_reason)).toContain("impit");
      const providers = (await (await fetch(`${gw.url}/admin/providers`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: { id: string; tls: Record<string, unknown> | null }[] };
      expect(providers.items.find((p) => p.id === "deepseek")?.tls).toMatchObject({ requested: "okhttp", in_use: "plain" });
    } finally {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(gw.stderr().split("\n").filter((l) => l.includes("TLS profile unavailable")).length).toBe(1);
  }, SLOW);
});

describe("cancelling a native-transport body", () => {
  test("a stalled stream's cancel reaches the server as a disconnect (HTTP/1.1: the connection is dropped)", async () => {
    let disconnects = 0;
    const srv = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        req.signal.addEventListener("abort", () => disconnects++, { once: true });
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("data: stalled\n\n")) }), { headers: { "content-type": "text/event-stream" } });
      },
    });
    try {
      const f = new UpstreamTransport().fetchFor("okhttp");
      for (const how of ["cancel", "abort"] as const) {
        const ac = new AbortController();
        const res = await f(`http://127.0.0.1:${srv.port}/stall`, { signal: ac.signal });
        const reader = res.body!.getReader();
        await reader.read();
        const before = disconnects;
        if (how === "cancel") await reader.cancel("idle");
        else {
          ac.abort();
          await expect(reader.read()).rejects.toBeDefined();
        }
        const deadline = Date.now() + 10_000;
        while (disconnects === before && Date.now() < deadline) await Bun.sleep(10);
        expect(disconnects).toBe(before + 1);
      }
    } finally {
      srv.stop(true);
    }
  }, SLOW);
});

describe("setting sources", () => {
  test("DS2API_TLS_PROFILE and config.json upstream.tls_profile accept the five profiles and refuse others", () => {
    expect(resolveOptions([], { DS2API_TLS_PROFILE: " Chrome " }).tlsProfile).toBe("chrome");
    expect(resolveOptions([], {}).tlsProfile).toBeUndefined();
    expect(() => resolveOptions([], { DS2API_TLS_PROFILE: "curl" })).toThrow(OptionsError);
    expect(parseDs2ApiConfig({ upstream: { tls_profile: "safari" } }).config.sections.upstream).toEqual({ tls_profile: "safari" });
    expect(() => parseDs2ApiConfig({ upstream: { tls_profile: "curl" } })).toThrow(ConfigError);
  });
});

describe("transport unit behaviour", () => {
  test("the loopback trust switch needs both variables and never applies to other hosts", async () => {
    const onlyOne = new UpstreamTransport({ env: { DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK: "1" } });
    await expect(onlyOne.fetchFor("okhttp")(`${fp.url}/api/v0/users/current`)).rejects.toThrow();
    const both = new UpstreamTransport({ env: { DS2API_TEST_MODE: "1", DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK: "1" } });
    expect((await both.fetchFor("okhttp")(`${fp.url}/api/v0/users/current`)).status).toBe(200);
    const plainBoth = both.fetchFor("plain");
    expect((await plainBoth(`${fp.url}/api/v0/users/current`)).status).toBe(200);
    await expect(new UpstreamTransport().fetchFor("plain")(`${fp.url}/api/v0/users/current`)).rejects.toThrow();
  }, SLOW);

  test("streams arrive chunk by chunk and an abort ends the body", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let served = 0;
    const slow = await startFingerprintServer({
      handler: () => {
        // The first stream waits for the test's release; later ones never send their second event.
        const wait = served++ === 0 ? gate : new Promise<void>(() => {});
        return new Response(
          new ReadableStream({
            async start(c) {
              c.enqueue(new TextEncoder().encode("data: first\n\n"));
              await wait;
              c.enqueue(new TextEncoder().encode("data: second\n\n"));
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      },
    });
    try {
      const t = new UpstreamTransport({ env: { DS2API_TEST_MODE: "1", DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK: "1" } });
      const f = t.fetchFor("okhttp");
      const res = await f(`${slow.url}/stream`);
      const reader = res.body!.getReader();
      // The first event arrives while the server still holds the second back: incremental, not buffered.
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("first");
      release();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("second");
      expect((await reader.read()).done).toBe(true);
      // Keep-alive: a second request reuses the connection.
      const conns = slow.connections();
      const ac = new AbortController();
      const again = await f(`${slow.url}/stream`, { signal: ac.signal });
      expect(slow.connections()).toBe(conns);
      const r2 = again.body!.getReader();
      await r2.read();
      ac.abort();
      await expect(r2.read()).rejects.toBeDefined();
    } finally {
      await slow.stop();
    }
  }, SLOW);
});
