/**
 * A shared dependency (the database, Redis) that is down, faked on a real server: every surface answers 503 in its
 * own shape with `Retry-After: 5` and the code `<dependency>_unavailable` — from the request guard while the
 * health monitor says "down", from a route that throws DependencyUnavailableError, from the turn path before a
 * stream started (HTTP 503) and after (the surface's in-stream error), and from the server's last-resort catch.
 * /readyz answers 503 `dependency_down` with the reason, /metrics shows `ds2api_dependency_up 0`; back up → 200.
 * (The real Postgres / Redis outages are in tests/cluster-proof.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ModelSpec } from "../src/core/models/native.ts";
import type { ProviderStatus, UpstreamErrorListener, UpstreamEvent, UpstreamOutcome, UpstreamProvider, UpstreamTurn } from "../src/core/upstream/provider.ts";
import { DependencyUnavailableError } from "../src/core/cluster/ports.ts";
import { DependencyHealthMonitor, describeDependencyError, isConnectionError, throughHealth } from "../src/core/cluster/dependency-health.ts";
import { MemoryResponseStore } from "../src/core/cluster/memory-responses.ts";
import { singleCluster } from "../src/core/cluster/single.ts";
import type { ClusterCapacity, ClusterLeases, LeaseResult } from "../src/core/cluster/ports.ts";
import { clusterView } from "../src/observability/cluster-view.ts";
import { Metrics } from "../src/observability/metrics.ts";
import { parseExposition, sumOf } from "./support/prometheus-parse.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { until } from "./support/wait.ts";

const SECRET = "hunter2-not-for-clients";
/** What a Redis client reports when the server is gone (with a URL that carries a password, which must never show). */
const refused = () => Object.assign(new Error(`connect ECONNREFUSED redis://:${SECRET}@127.0.0.1:6390`), { code: "ECONNREFUSED" });

const spec = (id: string): ModelSpec => ({ id, provider: "flaky", thinkingDefault: false, thinkingForcedOff: true, search: false });

/** A provider whose turns fail on a dependency: `dep-before` at once, `dep-after` after its first text. */
class DependencyFailingProvider implements UpstreamProvider {
  readonly id = "flaky";
  readonly displayName = "Flaky";
  readonly input = "prompt";
  readonly toolCalls = "text";
  readonly acceptsTranscript = false;
  models(): readonly ModelSpec[] {
    return [spec("dep-before"), spec("dep-after")];
  }
  async *run(turn: UpstreamTurn): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    if (turn.model.id === "dep-after") {
      yield { type: "text", text: "partial answer " };
      await Bun.sleep(5);
    }
    throw new DependencyUnavailableError("redis", "redis unreachable: connection closed");
  }
  onUpstreamError(_l: UpstreamErrorListener): void {}
  status(): ProviderStatus {
    return { id: this.id, models: 2 };
  }
  reload(): void {}
  async close(): Promise<void> {}
}

let stack: Stack;
const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
const admin = { authorization: "Bearer e2e-admin", "content-type": "application/json" };

interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
  json: any;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<Answer> {
  const r = await fetch(stack.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, retryAfter: r.headers.get("retry-after"), text, json };
}

const chatBody = (model: string, stream = false) => ({ model, stream, messages: [{ role: "user", content: "hi" }] });
const anthropicBody = (model: string, stream = false) => ({ model, stream, max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
const geminiBody = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };

type SurfaceName = "openai" | "anthropic" | "gemini" | "ollama" | "admin";

/** One request per surface, each with the model given (business surfaces) — the admin API is a plain read. */
function everySurface(model: string): Record<SurfaceName, () => Promise<Answer>> {
  return {
    openai: () => call("POST", "/v1/chat/completions", chatBody(model)),
    anthropic: () => call("POST", "/anthropic/v1/messages", anthropicBody(model)),
    gemini: () => call("POST", `/v1beta/models/${model}:generateContent`, geminiBody),
    ollama: () => call("POST", "/api/chat", { model, stream: false, messages: [{ role: "user", content: "hi" }] }),
    admin: () => call("GET", "/admin/keys", undefined, admin),
  };
}

/** The 503 of each surface, in its own shape, naming the dependency's code and never the secret. */
function expectShapes(answers: Partial<Record<SurfaceName, Answer>>, code: "redis_unavailable" | "database_unavailable") {
  for (const [surface, a] of Object.entries(answers)) {
    expect({ surface, status: a.status, retryAfter: a.retryAfter }).toEqual({ surface, status: 503, retryAfter: "5" });
    expect(a.text).not.toContain(SECRET);
    expect(a.text).not.toContain("at ");
  }
  const { openai, anthropic, gemini, ollama, admin: adminAnswer } = answers;
  expect(openai?.json.error).toMatchObject({ type: "service_unavailable_error", code });
  expect(openai?.json.error.message).toContain("unreachable");
  expect(anthropic?.json).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  expect(anthropic?.json.error.message).toContain("unreachable");
  expect(gemini?.json).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
  expect(typeof ollama?.json.error).toBe("string");
  expect(ollama?.json.error).toContain("unreachable");
  if (adminAnswer) {
    expect(adminAnswer.json).toMatchObject({ code });
    expect(adminAnswer.json.detail).toContain("unreachable");
  }
}

async function askAll(model: string, surfaces: readonly SurfaceName[] = ["openai", "anthropic", "gemini", "ollama", "admin"]) {
  const s = everySurface(model);
  const out: Partial<Record<SurfaceName, Answer>> = {};
  for (const name of surfaces) out[name] = await s[name]();
  return out;
}

async function dependencyGauge(dependency: string): Promise<number | undefined> {
  const r = await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer e2e-admin" } });
  return parseExposition(await r.text()).samples.get(`ds2api_dependency_up{dependency="${dependency}"}`);
}

beforeAll(async () => {
  stack = await startStack({ accounts: 1, extraProviders: [new DependencyFailingProvider()] });
});

afterAll(async () => {
  await stack?.stop();
});

describe("dependency health monitor", () => {
  test("connection errors mark a dependency down, answered errors do not; ok() flips it back; reasons carry no credentials", () => {
    const h = new DependencyHealthMonitor(["database"]);
    const changes: string[] = [];
    h.onChange((d, s) => changes.push(`${d}:${s.up ? "up" : "down"}`));
    expect(h.view()).toEqual({ database: { up: true, since: expect.any(Number) } });
    h.report("database", Object.assign(new Error('duplicate key value violates unique constraint "keys_pkey"'), { code: "23505" }));
    expect(h.up("database")).toBe(true);
    h.report("database", Object.assign(new Error(`Connection closed (postgres://ds2:${SECRET}@db:5432/ds2api)`), { code: "ERR_POSTGRES_CONNECTION_CLOSED" }));
    expect(h.up("database")).toBe(false);
    expect(() => h.assertUp("database")).toThrow(DependencyUnavailableError);
    try {
      h.assertUp("database");
    } catch (e) {
      expect(e).toBeInstanceOf(DependencyUnavailableError);
      const err = e as DependencyUnavailableError;
      expect({ code: err.code, status: err.status, retry: err.retryAfterSeconds }).toEqual({ code: "database_unavailable", status: 503, retry: 5 });
      expect(err.message).toStartWith("database unreachable: Connection closed");
      expect(err.message).not.toContain(SECRET);
    }
    expect(h.view().database?.error).not.toContain(SECRET);
    h.assertUp("redis"); // never reported: up
    h.ok("database");
    expect(h.up("database")).toBe(true);
    expect(changes).toEqual(["database:down", "database:up"]);
    h.close();
  });

  test("what counts as a connection error, and how reasons are masked", () => {
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "57P01" }))).toBe(true); // admin shutdown
    expect(isConnectionError(Object.assign(new Error("x"), { code: "08006" }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error("x"), { code: "ERR_REDIS_CONNECTION_CLOSED" }))).toBe(true);
    expect(isConnectionError(new Error("NOSCRIPT No matching script"))).toBe(false);
    expect(isConnectionError(Object.assign(new Error("syntax error"), { code: "42601" }))).toBe(false);
    expect(describeDependencyError(new Error(`auth failed password=${SECRET} for redis://u:${SECRET}@h:1`))).not.toContain(SECRET);
  });

  test("a DependencyUnavailableError reported keeps its own wording; throughHealth refuses while down and reports both ways", async () => {
    const h = new DependencyHealthMonitor(["database", "redis"]);
    h.report("database", new DependencyUnavailableError("database", "database unreachable (db:5432): connection refused"));
    expect(() => h.assertUp("database")).toThrow("database unreachable (db:5432): connection refused");
    h.report("redis", new DependencyUnavailableError("redis", "redis unreachable: Connection closed"));
    expect(() => h.assertUp("redis")).toThrow(/^redis unreachable: Connection closed$/);
    let calls = 0;
    const work = async () => {
      calls++;
      return "done";
    };
    await expect(throughHealth(h, "database", work)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(calls).toBe(0); // refused at once, the service is not called
    h.ok("database");
    expect(await throughHealth(h, "database", work)).toBe("done");
    await expect(throughHealth(h, "database", () => Promise.reject(Object.assign(new Error("x"), { code: "ECONNREFUSED" })))).rejects.toThrow("x");
    expect(h.up("database")).toBe(false);
    h.ok("database");
    await expect(throughHealth(h, "database", () => Promise.reject(Object.assign(new Error("dup"), { code: "23505" })))).rejects.toThrow("dup");
    expect(h.up("database")).toBe(true); // an answered error: still up
    h.close();
  });

  test("a probe retries a down dependency and flips it back up on success", async () => {
    const h = new DependencyHealthMonitor(["redis"]);
    let answers = false;
    let probes = 0;
    h.setProbe("redis", async () => {
      probes++;
      if (!answers) throw refused();
    });
    h.report("redis", refused());
    expect(h.up("redis")).toBe(false);
    await until(() => probes >= 1, 5000, "the first probe");
    expect(h.up("redis")).toBe(false);
    answers = true;
    await until(() => h.up("redis"), 5000, "the probe to flip redis back up");
    h.close();
  });

  test("the in-memory responses: per caller, expired after the TTL", async () => {
    let now = 1000;
    const store = new MemoryResponseStore(() => 60_000, () => now);
    await store.put("resp_1", "caller:a", { id: "resp_1" }, [{ role: "user", content: "hi" }]);
    expect(await store.get("resp_1", "caller:a")).toEqual({ response: { id: "resp_1" }, conversation: [{ role: "user", content: "hi" }] });
    expect(await store.get("resp_1", "caller:b")).toBeUndefined();
    now += 60_001;
    expect(await store.get("resp_1", "caller:a")).toBeUndefined();
    expect(store.size).toBe(0);
  });

  test("singleCluster: mode single, its instance id, an in-process bus and a watched database", async () => {
    const c = singleCluster({ instanceId: "solo", responsesTtlMs: () => 1000, onBusError: () => {} });
    expect({ mode: c.mode, instanceId: c.instanceId, leases: c.leases, tokens: c.tokens, quotas: c.quotas }).toEqual({
      mode: "single",
      instanceId: "solo",
      leases: undefined,
      tokens: undefined,
      quotas: undefined,
    });
    const seen: string[] = [];
    c.bus.subscribe(["keys.changed"], (events) => {
      seen.push(...events.map((e) => e.topic));
    });
    c.bus.publish({ topic: "keys.changed" });
    expect(seen).toEqual(["keys.changed"]);
    expect(Object.keys(c.health.view())).toEqual(["database"]);
    await c.close();
  });
});

/** Leases that answer from a script, and a heartbeat capacity set by the test. */
function scriptedLeases(results: LeaseResult[], capacity?: ClusterCapacity): ClusterLeases {
  return {
    tryAcquire: async () => results.shift() ?? { ok: true, leaseId: "l", inflight: 1 },
    release: () => {},
    setCooldown: async () => {},
    onFreed: () => () => {},
    reportLocal: () => {},
    capacity: () => capacity,
  };
}

describe("cluster view and metrics of several instances (fake leases)", () => {
  test("/readyz's cluster view: instances, cluster load and this instance's share from the heartbeat; redis shown", () => {
    const base = singleCluster({ instanceId: "b", responsesTtlMs: () => 1000, onBusError: () => {}, watched: ["database", "redis"] });
    const cluster = { ...base, mode: "redis" as const, leases: scriptedLeases([], { instances: 3, inflight: 8, waiting: 4, perAccount: { "u0@x": 2 } }) };
    const view = clusterView(cluster, "postgres", { accounts: 5, inFlight: 2, waiting: 1 });
    expect(view).toEqual({
      mode: "redis",
      instance: "b",
      instances: 3,
      database: { kind: "postgres", up: true },
      redis: { up: true },
      capacity: { accounts: 5, in_flight: 8, waiting: 4, per_account: { "u0@x": 2 } },
      share: { in_flight: 0.25, waiting: 0.25 },
    });
    base.health.report("redis", refused());
    expect(clusterView(cluster, "postgres", { accounts: 5, inFlight: 0, waiting: 0 }).redis).toEqual({ up: false, error: expect.stringContaining("ECONNREFUSED") });
    // Before the first heartbeat: this instance alone.
    const early = clusterView({ ...cluster, leases: scriptedLeases([]) }, "postgres", { accounts: 5, inFlight: 1, waiting: 0 });
    expect({ instances: early.instances, share: early.share }).toEqual({ instances: 1, share: { in_flight: 1, waiting: 1 } });
    base.health.close();
  });

  test("lease refusals are counted by reason on /metrics; grants are not", async () => {
    const metrics = new Metrics();
    const leases = metrics.watchLeases(
      scriptedLeases([
        { ok: false, reason: "busy" },
        { ok: false, reason: "busy" },
        { ok: false, reason: "paced", waitMs: 100 },
        { ok: true, leaseId: "x", inflight: 1 },
      ]),
    );
    const limits = { maxInflight: 2, gapMs: 0, nextGapMs: 0, dailyCap: 0, globalMax: 0 };
    for (let i = 0; i < 4; i++) await leases.tryAcquire("u0@x", limits);
    const c = singleCluster({ responsesTtlMs: () => 1000, onBusError: () => {} });
    const text = metrics.render({ providers: () => [], httpInFlight: () => 0, draining: () => false, cluster: () => clusterView(c, "sqlite", { accounts: 0, inFlight: 0, waiting: 0 }) });
    const exp = parseExposition(text);
    expect(exp.samples.get('ds2api_lease_refusals_total{reason="busy"}')).toBe(2);
    expect(exp.samples.get('ds2api_lease_refusals_total{reason="paced"}')).toBe(1);
    expect(sumOf(exp, "ds2api_lease_refusals_total")).toBe(3);
    await c.close();
  });
});

describe("a dependency down on a running server", () => {
  test("the server runs a cluster of one: /readyz and /metrics show it", async () => {
    const ready = await call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.cluster).toMatchObject({
      mode: "single",
      instances: 1,
      database: { kind: "sqlite", up: true },
      capacity: { accounts: 1, in_flight: 0, waiting: 0 },
      share: { in_flight: 1, waiting: 1 },
    });
    expect(ready.json.cluster.redis).toBeUndefined();
    expect(ready.json.cluster.instance).toBe(stack.server.ctx.options.instanceId);
    const r = await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer e2e-admin" } });
    const exp = parseExposition(await r.text());
    expect(sumOf(exp, "ds2api_dependency_up", { dependency: "database" })).toBe(1);
    expect(sumOf(exp, "ds2api_cluster_instances")).toBe(1);
    expect(sumOf(exp, "ds2api_instance_share_ratio")).toBe(1);
    expect(exp.samples.get("ds2api_cluster_in_flight")).toBe(0);
    expect(exp.samples.get("ds2api_cluster_waiting")).toBe(0);
    expect(exp.types.get("ds2api_lease_refusals_total")).toBe("counter");
  });

  test("redis marked down: every surface 503 at once, /readyz dependency_down with the reason, gauge 0; back up: 200", async () => {
    const health = stack.server.ctx.cluster.health;
    health.report("redis", refused());
    try {
      expectShapes(await askAll("deepseek-v4-flash"), "redis_unavailable");
      const ready = await call("GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.json.status).toBe("dependency_down");
      expect(ready.json.reason).toStartWith("redis unreachable: connect ECONNREFUSED");
      expect(ready.json.cluster.redis).toMatchObject({ up: false });
      expect(ready.text).not.toContain(SECRET);
      expect(await dependencyGauge("redis")).toBe(0);
      expect(await dependencyGauge("database")).toBe(1);
      // Liveness is not readiness: the process is up.
      expect((await call("GET", "/healthz")).status).toBe(200);
    } finally {
      health.ok("redis");
    }
    const ready = await call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.cluster.redis).toEqual({ up: true });
    expect(await dependencyGauge("redis")).toBe(1);
    const s = everySurface("deepseek-v4-flash");
    for (const ask of [s.openai, s.anthropic, s.gemini, s.ollama, s.admin]) expect((await ask()).status).toBe(200);
  });

  test("the database marked down: database_unavailable in every surface, then back", async () => {
    const health = stack.server.ctx.cluster.health;
    health.report("database", Object.assign(new Error("Connection closed"), { code: "ERR_POSTGRES_CONNECTION_CLOSED" }));
    try {
      expectShapes(await askAll("deepseek-v4-flash"), "database_unavailable");
      const ready = await call("GET", "/readyz");
      expect(ready.json).toMatchObject({ status: "dependency_down", reason: "database unreachable: Connection closed" });
      expect(await dependencyGauge("database")).toBe(0);
    } finally {
      health.ok("database");
    }
    expect((await call("GET", "/readyz")).status).toBe(200);
  });

  test("the turn path before a stream started: an HTTP 503 in every business surface (stream or not)", async () => {
    expectShapes(await askAll("dep-before", ["openai", "anthropic", "gemini", "ollama"]), "redis_unavailable");
    const streamed = {
      openai: await call("POST", "/v1/chat/completions", chatBody("dep-before", true)),
      anthropic: await call("POST", "/anthropic/v1/messages", anthropicBody("dep-before", true)),
      gemini: await call("POST", "/v1beta/models/dep-before:streamGenerateContent?alt=sse", geminiBody),
      ollama: await call("POST", "/api/chat", { model: "dep-before", stream: true, messages: [{ role: "user", content: "hi" }] }),
      responses: await call("POST", "/v1/responses", { model: "dep-before", stream: true, input: "hi" }),
    };
    for (const [surface, a] of Object.entries(streamed)) expect({ surface, status: a.status, retryAfter: a.retryAfter }).toEqual({ surface, status: 503, retryAfter: "5" });
    expect(streamed.openai.json.error.code).toBe("redis_unavailable");
    expect(streamed.responses.json.error).toMatchObject({ type: "service_unavailable_error", code: "redis_unavailable" });
    expect(streamed.anthropic.json.error.type).toBe("overloaded_error");
    expect(streamed.gemini.json.error.status).toBe("UNAVAILABLE");
    expect(typeof streamed.ollama.json.error).toBe("string");
  });

  test("the turn path after a stream started: the surface's in-stream error names the dependency", async () => {
    const openai = await call("POST", "/v1/chat/completions", chatBody("dep-after", true));
    expect(openai.status).toBe(200);
    expect(openai.text).toContain("partial answer");
    expect(openai.text).toContain('"code":"redis_unavailable"');
    const anthropic = await call("POST", "/anthropic/v1/messages", anthropicBody("dep-after", true));
    expect(anthropic.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error"/);
    const gemini = await call("POST", "/v1beta/models/dep-after:streamGenerateContent?alt=sse", geminiBody);
    expect(gemini.text).toContain('"status":"UNAVAILABLE"');
    const ollama = await call("POST", "/api/chat", { model: "dep-after", stream: true, messages: [{ role: "user", content: "hi" }] });
    const last = JSON.parse(ollama.text.trim().split("\n").at(-1)!);
    expect(last.error).toContain("redis unreachable");
    const responses = await call("POST", "/v1/responses", { model: "dep-after", stream: true, input: "hi" });
    expect(responses.text).toContain("response.failed");
    expect(responses.text).toContain('"code":"redis_unavailable"');
  });

  test("a route that throws it: the Responses store (business) and the change bus (admin write)", async () => {
    const ctx = stack.server.ctx;
    const responses = ctx.cluster.responses;
    const originalGet = responses.get;
    responses.get = async () => {
      throw new DependencyUnavailableError("redis", "redis unreachable: connection closed");
    };
    const originalPublish = ctx.changes.publish;
    ctx.changes.publish = () => {
      throw new DependencyUnavailableError("redis", "redis unreachable: connection closed");
    };
    try {
      const got = await call("GET", "/v1/responses/resp_missing");
      expect({ status: got.status, retryAfter: got.retryAfter, code: got.json.error.code }).toEqual({ status: 503, retryAfter: "5", code: "redis_unavailable" });
      const cont = await call("POST", "/v1/responses", { model: "deepseek-v4-flash", input: "hi", previous_response_id: "resp_x" });
      expect({ status: cont.status, type: cont.json.error.type }).toEqual({ status: 503, type: "service_unavailable_error" });
      const write = await call("POST", "/admin/keys", { key: "sk-added-while-down" }, admin);
      expect({ status: write.status, retryAfter: write.retryAfter, code: write.json.code }).toEqual({ status: 503, retryAfter: "5", code: "redis_unavailable" });
      expect(write.json.detail).toBe("redis unreachable: connection closed");
    } finally {
      responses.get = originalGet;
      ctx.changes.publish = originalPublish;
    }
    expect((await call("GET", "/v1/responses/resp_missing")).status).toBe(404);
  });

  test("escaping to the server's last-resort catch: 503, not 500", async () => {
    const providers = stack.server.ctx.providers;
    const original = providers.accountStatus;
    providers.accountStatus = () => {
      throw new DependencyUnavailableError("database", "database unreachable: connection refused");
    };
    try {
      const r = await call("GET", "/readyz");
      expect({ status: r.status, retryAfter: r.retryAfter }).toEqual({ status: 503, retryAfter: "5" });
      expect(r.json.error).toMatchObject({ type: "service_unavailable_error", code: "database_unavailable" });
    } finally {
      providers.accountStatus = original;
    }
    expect((await call("GET", "/readyz")).status).toBe(200);
  });
});

describe("start-up with shared services", () => {
  test("Postgres unreachable: retried until DS2API_DEPENDENCY_START_TIMEOUT_SECONDS, then one line without the password, exit 1", async () => {
    const { runCommand, sourceCommand } = await import("./support/spawn-server.ts");
    const { tempDir } = await import("./support/test-server.ts");
    const dir = tempDir();
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const r = await runCommand([...sourceCommand(), "--port", "0", "--db", `${dir}/x.sqlite`], {
      cwd: dir,
      env: {
        DS2API_DATABASE_URL: `postgres://ds2:start-secret-pw@127.0.0.1:${port}/ds2api`,
        DS2API_SECRET_KEY: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        DS2API_DEPENDENCY_START_TIMEOUT_SECONDS: "1",
        DS2API_ADMIN_KEY: "k",
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toStartWith(`ds2api: database unreachable (127.0.0.1:${port}/ds2api)`);
    expect(`${r.stdout}${r.stderr}`).toContain("database not reachable yet; retrying");
    expect(`${r.stdout}${r.stderr}`).not.toContain("start-secret-pw");
  }, 60_000);

  test("Redis without Postgres is refused at once: instances sharing leases must share the database", async () => {
    const { runCommand, sourceCommand } = await import("./support/spawn-server.ts");
    const { tempDir } = await import("./support/test-server.ts");
    const dir = tempDir();
    const r = await runCommand([...sourceCommand(), "--port", "0", "--db", `${dir}/x.sqlite`], { cwd: dir, env: { DS2API_REDIS_URL: "redis://:redis-secret@127.0.0.1:1", DS2API_ADMIN_KEY: "k" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("DS2API_REDIS_URL is set without DS2API_DATABASE_URL");
    expect(`${r.stdout}${r.stderr}`).not.toContain("redis-secret");
  }, 60_000);
});
