/**
 * Issue 12 §4 through a real server: scripted fake providers registered next to DeepSeek (the simulator) via
 * startServer's `extraProviders` hook prove routing (`provider/model`, bare ids, aliases), every surface's
 * model lists, per-provider /readyz and /metrics, and that one provider's failure never touches another.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ModelCatalog, type ModelSpec } from "../src/core/models/index.ts";
import type {
  CredentialPoolStatus,
  ProviderStatus,
  UpstreamErrorListener,
  UpstreamEvent,
  UpstreamOutcome,
  UpstreamProvider,
  UpstreamTurn,
} from "../src/core/upstream/provider.ts";
import { TurnError } from "../src/core/turn/turn-error.ts";
import { ProviderRegistry } from "../src/core/upstream/registry.ts";
import { DEEPSEEK_MODELS } from "../src/upstream/deepseek/models.ts";
import { parseExposition, sumOf } from "./support/prometheus-parse.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

const spec = (provider: string, id: string, over: Partial<ModelSpec> = {}): ModelSpec => ({
  id, provider, thinkingDefault: false, thinkingForcedOff: true, search: false, ...over,
});

function creds(usable: number, over: Partial<CredentialPoolStatus> = {}): CredentialPoolStatus {
  return { total: usable, usable, exhausted: 0, bad: 0, cooling: 0, disabled: 0, inUse: 0, ...over };
}

/** A scripted provider: answers "hello from <id> (<model>)", records its turns, can be unconfigured or broken. */
class FakeProvider implements UpstreamProvider {
  readonly input = "prompt";
  readonly toolCalls = "text";
  readonly acceptsTranscript = false;
  readonly turns: UpstreamTurn[] = [];
  readonly listeners: UpstreamErrorListener[] = [];
  isConfigured = true;
  /** Status hooks throw and every turn fails (reporting a WAF page first). */
  broken = false;
  pool: CredentialPoolStatus | undefined;
  readonly credentials?: UpstreamProvider["credentials"];

  constructor(
    readonly id: string,
    readonly displayName: string,
    private readonly specs: ModelSpec[],
    pool?: CredentialPoolStatus,
  ) {
    this.pool = pool;
    if (pool) {
      const self = this;
      this.credentials = {
        entryKind: "api_key",
        list: async () => [],
        add: async () => ({ added: 0, updated: 0, skipped: [] }),
        importText: async () => ({ added: 0, updated: 0, skipped: [] }),
        update: async () => false,
        setEnabled: async () => false,
        remove: async () => false,
        resetUsage: async () => 0,
        test: async () => ({ ok: true, message: "ok" }),
        status() {
          if (self.broken) throw new Error("credential store unreadable");
          return self.pool!;
        },
      };
    }
  }

  models(): readonly ModelSpec[] {
    return this.specs;
  }
  configured(): boolean {
    return this.isConfigured;
  }
  setupHint(): string {
    return `set ${this.id.toUpperCase()}_API_KEYS, the "${this.id}" section of config.json, or add keys in the admin console`;
  }
  async *run(turn: UpstreamTurn): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    this.turns.push(turn);
    if (this.broken) {
      for (const l of this.listeners) l("waf", undefined, `${this.id}: challenge page`);
      throw new TurnError(502, `${this.displayName} answered with a challenge page`, "upstream_error", undefined, "upstream");
    }
    const empty = turn.prompt.includes("SAY-NOTHING");
    if (!empty) {
      if (turn.thinking) yield { type: "reasoning", text: `thinking in ${this.id}` };
      yield { type: "text", text: `hello from ${this.id} (${turn.model.id})` };
    }
    return { contentFiltered: false, truncated: false, empty, reasoningOnly: false };
  }
  onUpstreamError(listener: UpstreamErrorListener): void {
    this.listeners.push(listener);
  }
  status(): ProviderStatus {
    return { id: this.id, models: this.specs.length, credentials: this.credentials?.status() };
  }
  reload(): void {}
  async close(): Promise<void> {}
}

const alpha = new FakeProvider("alpha", "Alpha Cloud", [
  spec("alpha", "alpha-chat"),
  spec("alpha", "alpha-think", { thinkingDefault: true, thinkingForcedOff: false, upstreamModel: "alpha-think-2", displayName: "Alpha Think" }),
  spec("alpha", "deepseek-r1", { thinkingDefault: true, thinkingForcedOff: false }),
  spec("alpha", "shared-x"),
], creds(2));
const beta = new FakeProvider("beta", "Beta AI", [spec("beta", "shared-x"), spec("beta", "gpt-4o", { vision: true })], creds(1));
const gamma = new FakeProvider("gamma", "Gamma Hub", [spec("gamma", "gamma-1")]);
gamma.isConfigured = false;
const broken = new FakeProvider("broken", "Broken Upstream", [spec("broken", "broken-1")], creds(3));
broken.broken = true;

let stack: Stack;
const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
const admin = { authorization: "Bearer e2e-admin", "content-type": "application/json" };

async function post(path: string, body: unknown, headers: Record<string, string> = auth) {
  const r = await fetch(stack.url + path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
}
const chat = (model: string, content = "hi") => post("/v1/chat/completions", { model, messages: [{ role: "user", content }] });
const get = async (path: string, headers: Record<string, string> = auth) => {
  const r = await fetch(stack.url + path, { headers });
  return { status: r.status, json: (await r.json()) as any };
};

beforeAll(async () => {
  stack = await startStack({ extraProviders: [alpha, beta, gamma, broken] });
  // The first DeepSeek turn logs in and warms the PoW pool (seconds on a busy machine); do it once here.
  expect((await chat("deepseek-v4-flash")).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe("routing", () => {
  test("provider/model always reaches that provider; the response echoes the requested id", async () => {
    const before = alpha.turns.length;
    const r = await chat("alpha/alpha-chat");
    expect(r.status).toBe(200);
    expect(r.json.model).toBe("alpha/alpha-chat");
    expect(r.json.choices[0].message.content).toBe("hello from alpha (alpha-chat)");
    expect(alpha.turns.length).toBe(before + 1);
    expect(alpha.turns.at(-1)!.model).toMatchObject({ id: "alpha-chat", provider: "alpha" });

    const ds = await chat("deepseek/deepseek-v4-pro");
    expect(ds.status).toBe(200);
    expect(ds.json.choices[0].message.content).not.toContain("hello from");
    expect(alpha.turns.length).toBe(before + 1);
  });

  test("unprefixed ids keep today's meaning: DeepSeek natives and aliases (gpt-4o) stay on DeepSeek even when another provider serves the id", async () => {
    const betaBefore = beta.turns.length;
    for (const model of ["deepseek-v4-flash", "gpt-4o", "claude-sonnet-4-6"]) {
      const r = await chat(model);
      expect(r.status).toBe(200);
      expect(r.json.choices[0].message.content).not.toContain("hello from");
    }
    expect(beta.turns.length).toBe(betaBefore);
    expect((await chat("beta/gpt-4o")).json.choices[0].message.content).toBe("hello from beta (gpt-4o)");
  });

  test("an unprefixed id only one other provider serves goes there; one several serve is a 400 naming the choices", async () => {
    const r = await chat("deepseek-r1");
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe("hello from alpha (deepseek-r1)");
    const amb = await chat("shared-x");
    expect(amb.status).toBe(400);
    expect(amb.json.error.code).toBe("model_not_found");
    expect(amb.json.error.message).toContain("alpha/shared-x");
    expect(amb.json.error.message).toContain("beta/shared-x");
  });

  test("an unknown model of a known provider is a 400 naming that provider's models", async () => {
    const r = await chat("alpha/nope");
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("model_not_found");
    expect(r.json.error.message).toContain('provider "alpha"');
    expect(r.json.error.message).toContain("alpha/alpha-chat");
    expect(r.json.error.message).not.toContain("deepseek-v4-flash");
  });

  test("an unconfigured provider answers 503 provider_unavailable saying how to configure it; its bare ids stay unknown", async () => {
    const r = await chat("gamma/gamma-1");
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("provider_unavailable");
    expect(r.json.error.message).toContain("GAMMA_API_KEYS");
    expect(r.json.error.message).toContain("Gamma Hub");
    const bare = await chat("gamma-1");
    expect(bare.status).toBe(400);
    expect(bare.json.error.code).toBe("model_not_found");
    expect(gamma.turns).toHaveLength(0);
  });

  test("config aliases may point an unprefixed id at any provider; targets are validated", async () => {
    const bad = await fetch(`${stack.url}/admin/settings`, { method: "PUT", headers: admin, body: JSON.stringify({ model_aliases: { "my-x": "alpha/nope" } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).detail).toContain("alpha/nope");
    const ok = await fetch(`${stack.url}/admin/settings`, {
      method: "PUT",
      headers: admin,
      body: JSON.stringify({ model_aliases: { "my-r1": "alpha/alpha-think", "later-g": "gamma/gamma-1", "team-fast": "deepseek-v4-flash" } }),
    });
    expect(ok.status).toBe(200);
    try {
      const r = await chat("My-R1");
      expect(r.status).toBe(200);
      expect(r.json.model).toBe("My-R1");
      expect(r.json.choices[0].message.content).toBe("hello from alpha (alpha-think)");
      expect((await chat("later-g")).status).toBe(503);
      const list = (await get("/v1/models")).json.data as { id: string; owned_by: string }[];
      expect(list.find((m) => m.id === "my-r1")?.owned_by).toBe("alpha");
      expect(list.find((m) => m.id === "team-fast")?.owned_by).toBe("deepseek");
      expect(list.some((m) => m.id === "later-g")).toBe(false);
    } finally {
      await fetch(`${stack.url}/admin/settings`, { method: "PUT", headers: admin, body: JSON.stringify({ model_aliases: {} }) });
    }
  });

  test("the empty-output error names the provider that came back empty", async () => {
    const r = await chat("alpha/alpha-chat", "SAY-NOTHING please");
    expect(r.status).toBe(502);
    expect(r.json.error.message).toContain("Alpha Cloud returned no visible output");
    expect(r.json.error.message).not.toContain("DeepSeek");
  });
});

describe("every surface uses the same resolver", () => {
  test("OpenAI Responses", async () => {
    const r = await post("/v1/responses", { model: "alpha/alpha-chat", input: "hi" });
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json.output)).toContain("hello from alpha (alpha-chat)");
    expect((await post("/v1/responses", { model: "gamma/gamma-1", input: "hi" })).status).toBe(503);
  });

  test("Anthropic messages and count_tokens, in Anthropic's error shape", async () => {
    const headers = { "x-api-key": API_KEY, "content-type": "application/json", "anthropic-version": "2023-06-01" };
    const r = await post("/anthropic/v1/messages", { model: "alpha/alpha-think", max_tokens: 50, thinking: { type: "enabled", budget_tokens: 10 }, messages: [{ role: "user", content: "hi" }] }, headers);
    expect(r.status).toBe(200);
    expect(r.json.model).toBe("alpha/alpha-think");
    expect(r.json.content.find((b: any) => b.type === "thinking")?.thinking).toBe("thinking in alpha");
    expect(r.json.content.find((b: any) => b.type === "text")?.text).toBe("hello from alpha (alpha-think)");
    const count = await post("/anthropic/v1/messages/count_tokens", { model: "beta/gpt-4o", messages: [{ role: "user", content: "hi" }] }, headers);
    expect(count.status).toBe(200);
    expect(count.json.input_tokens).toBeGreaterThan(0);
    const missing = await post("/anthropic/v1/messages", { model: "beta/nope", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }, headers);
    expect(missing.status).toBe(400);
    expect(missing.json.type).toBe("error");
    expect(missing.json.error.message).toContain("beta/shared-x");
    const off = await post("/anthropic/v1/messages/count_tokens", { model: "gamma/gamma-1", messages: [{ role: "user", content: "hi" }] }, headers);
    expect(off.status).toBe(503);
    expect(off.json.type).toBe("error");
    // An unknown claude-* id still falls back to DeepSeek.
    expect((await post("/anthropic/v1/messages/count_tokens", { model: "claude-opus-9-9", messages: [{ role: "user", content: "hi" }] }, headers)).status).toBe(200);
  });

  test("Gemini generateContent with provider/model as two path segments or %2F", async () => {
    const body = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
    for (const path of ["/v1beta/models/alpha/alpha-chat:generateContent", "/v1beta/models/alpha%2Falpha-chat:generateContent", "/v1/models/alpha/alpha-chat:generateContent"]) {
      const r = await post(path, body);
      expect(r.status).toBe(200);
      expect(r.json.candidates[0].content.parts.map((p: any) => p.text).join("")).toBe("hello from alpha (alpha-chat)");
    }
    const off = await post("/v1beta/models/gamma/gamma-1:generateContent", body);
    expect(off.status).toBe(503);
    expect(off.json.error).toMatchObject({ code: 503, status: "UNAVAILABLE" });
    expect(off.json.error.message).toContain("GAMMA_API_KEYS");
    const unknown = await post("/v1beta/models/alpha/nope:generateContent", body);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toContain("alpha/alpha-chat");
    const count = await post("/v1beta/models/beta%2Fgpt-4o:countTokens", body);
    expect(count.status).toBe(200);
    // DeepSeek's Gemini ids are untouched.
    expect((await post("/v1beta/models/gemini-2.5-flash:countTokens", body)).status).toBe(200);
  });

  test("Ollama show", async () => {
    const show = await post("/api/show", { model: "beta/gpt-4o" });
    expect(show.status).toBe(200);
    expect(show.json).toMatchObject({ id: "beta/gpt-4o", capabilities: ["tools", "vision"], details: { family: "beta" } });
    expect((await post("/api/show", { model: "deepseek-v4-vision" })).json).toMatchObject({ id: "deepseek-v4-vision", details: { family: "deepseek" } });
    expect((await fetch(`${stack.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "gamma/gamma-1" }) })).status).toBe(503);
    expect((await fetch(`${stack.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "alpha/nope" }) })).status).toBe(404);
  });
});

describe("model lists name every configured provider", () => {
  const others = ["alpha/alpha-chat", "alpha/alpha-think", "alpha/deepseek-r1", "alpha/shared-x", "beta/shared-x", "beta/gpt-4o", "broken/broken-1"];

  test("OpenAI /v1/models: DeepSeek's entries first and unchanged, then provider/model owned by its provider; unconfigured left out", async () => {
    const data = (await get("/v1/models")).json.data as { id: string; owned_by: string }[];
    expect(data.slice(0, 10).map((m) => m.id)).toEqual(DEEPSEEK_MODELS.map((m) => m.id));
    expect(data.slice(0, 10).every((m) => m.owned_by === "deepseek")).toBe(true);
    expect(data.slice(-others.length).map((m) => [m.id, m.owned_by])).toEqual(others.map((id) => [id, id.split("/")[0]!]));
    expect(data.some((m) => m.id.startsWith("gamma"))).toBe(false);
    for (const path of ["/v1/models/alpha/alpha-think", "/v1/models/alpha%2Falpha-think", "/v1/models/ALPHA/Alpha-Think"]) {
      const one = await get(path);
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({ id: "alpha/alpha-think", owned_by: "alpha" });
    }
    // An alias or a bare id answers under the id asked for and names the model it runs on.
    expect((await get("/v1/models/gpt-4o")).json).toMatchObject({ id: "gpt-4o", owned_by: "deepseek", ds2api: { maps_to: "deepseek-v4-flash" } });
    expect((await get("/v1/models/deepseek-r1")).json).toMatchObject({ id: "deepseek-r1", owned_by: "alpha", ds2api: { maps_to: "alpha/deepseek-r1" } });
    const nf = await get("/v1/models/alpha/nope");
    expect(nf.status).toBe(404);
    expect(nf.json.error.message).toContain("alpha/alpha-chat");
    expect((await get("/v1/models/gamma/gamma-1")).status).toBe(503);
  });

  test("Anthropic, Gemini and Ollama lists", async () => {
    const anthropic = (await get("/anthropic/v1/models")).json.data as { id: string; owned_by: string; display_name: string }[];
    expect(anthropic.filter((m) => m.owned_by === "anthropic")).toHaveLength(44);
    expect(anthropic.find((m) => m.id === "alpha/alpha-think")).toMatchObject({ owned_by: "alpha", display_name: "Alpha Think (Alpha Cloud)" });
    const gemini = (await get("/v1beta/models")).json.models as { name: string; description: string; baseModelId: string }[];
    expect(gemini[0]!.name).toBe("models/deepseek-v4-flash");
    expect(gemini.find((m) => m.name === "models/alpha/alpha-think")).toMatchObject({ baseModelId: "alpha/alpha-think" });
    expect(gemini.find((m) => m.name === "models/alpha/alpha-think")!.description).toContain("Alpha Cloud, upstream model alpha-think-2");
    const one = await get("/v1beta/models/beta/gpt-4o");
    expect(one.status).toBe(200);
    expect(one.json.name).toBe("models/beta/gpt-4o");
    const tagList = (await get("/api/tags")).json.models as { name: string; details: { family: string } }[];
    expect(tagList.find((m) => m.name === "beta/gpt-4o")?.details.family).toBe("beta");
    expect(tagList[0]!.details.family).toBe("deepseek");
    const tags = tagList.map((m) => m.name);
    expect(tags.slice(0, 10)).toEqual(DEEPSEEK_MODELS.map((m) => m.id));
    expect(tags.slice(10)).toEqual(others);
  });

  test("a provider configured at run time shows up, and goes away again", async () => {
    gamma.isConfigured = true;
    try {
      expect(((await get("/v1/models")).json.data as { id: string }[]).some((m) => m.id === "gamma/gamma-1")).toBe(true);
      expect((await chat("gamma/gamma-1")).json.choices[0].message.content).toBe("hello from gamma (gamma-1)");
      expect((await chat("gamma-1")).status).toBe(200);
    } finally {
      gamma.isConfigured = false;
    }
    expect(((await get("/v1/models")).json.data as { id: string }[]).some((m) => m.id === "gamma/gamma-1")).toBe(false);
  });
});

describe("per-provider health and isolation", () => {
  test("a broken provider fails alone: its turns 502, its status shows the error, the others keep serving", async () => {
    const r = await chat("broken/broken-1");
    expect(r.status).toBe(502);
    expect(r.json.error.message).toContain("Broken Upstream");
    expect((await chat("alpha/alpha-chat")).status).toBe(200);
    expect((await chat("deepseek-v4-flash")).status).toBe(200);

    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.status).toBe("ready");
    // Top level as before: DeepSeek's pool and DeepSeek's upstream problem (none).
    expect(ready.json.capacity).toMatchObject({ accounts: 2, usable_now: 2 });
    expect(ready.json.upstream_problem).toBeUndefined();
    const p = ready.json.providers;
    // The built-in providers (DeepSeek first, then Volcengine and OnDemand, unconfigured here), then the test's fakes.
    expect(Object.keys(p)).toEqual(["deepseek", "volcengine", "ondemand", "alpha", "beta", "gamma", "broken"]);
    expect(p.deepseek).toMatchObject({ configured: true, can_serve: true, accounts: { accounts: 2, usable_now: 2 } });
    expect(p.alpha).toMatchObject({ name: "Alpha Cloud", configured: true, can_serve: true, credentials: { total: 2, usable: 2 } });
    expect(p.gamma).toMatchObject({ configured: false, can_serve: false });
    expect(p.gamma.setup).toContain("GAMMA_API_KEYS");
    expect(p.broken).toMatchObject({ configured: true, can_serve: false, upstream_problem: { kind: "waf" } });
    expect(p.broken.error).toContain("credential store unreadable");
    expect(p.alpha.upstream_problem).toBeUndefined();
    expect(p.deepseek.upstream_problem).toBeUndefined();
  });

  test("/metrics labels pool, upstream-error and turn series by provider", async () => {
    await chat("alpha/alpha-chat");
    const r = await fetch(`${stack.url}/metrics`, { headers: { authorization: "Bearer e2e-admin" } });
    expect(r.status).toBe(200);
    const m = parseExposition(await r.text());
    expect(sumOf(m, "ds2api_upstream_errors_total", { kind: "waf", provider: "broken" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(m, "ds2api_upstream_errors_total", { provider: "alpha" })).toBe(0);
    expect(sumOf(m, "ds2api_pool_accounts", { provider: "deepseek", state: "usable" })).toBe(2);
    expect(sumOf(m, "ds2api_pool_accounts", { provider: "alpha", state: "usable" })).toBe(2);
    expect(sumOf(m, "ds2api_pool_accounts", { provider: "beta", state: "usable" })).toBe(1);
    expect(sumOf(m, "ds2api_pool_queue_capacity", { provider: "deepseek" })).toBeGreaterThan(0);
    expect(sumOf(m, "ds2api_pow_workers", { provider: "deepseek" })).toBe(2);
    expect(sumOf(m, "ds2api_turns_total", { provider: "alpha", model: "alpha-chat", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(m, "ds2api_turns_total", { provider: "broken", status: "502" })).toBeGreaterThanOrEqual(1);
    expect(sumOf(m, "ds2api_turns_total", { provider: "deepseek", status: "200" })).toBeGreaterThanOrEqual(1);
  });

  test("strict readiness is 503 only when no configured provider can serve", async () => {
    const ok = await get("/readyz?strict=1");
    expect(ok.status).toBe(200);
    const pools = [alpha.pool, beta.pool];
    // DeepSeek's accounts all disabled, alpha and beta out of usable keys: nothing configured can serve.
    const idents = ["user0@example.com", "user1@example.com"];
    for (const id of idents) {
      const r = await fetch(`${stack.url}/admin/accounts/${encodeURIComponent(id)}/disable`, { method: "POST", headers: admin });
      expect(r.status).toBe(200);
    }
    try {
      alpha.pool = creds(0, { total: 2, exhausted: 2 });
      expect((await get("/readyz?strict=1")).status).toBe(200); // beta still has a key
      beta.pool = creds(0, { total: 1, bad: 1 });
      const none = await get("/readyz?strict=1");
      expect(none.status).toBe(503);
      expect(none.json.status).toBe("no_usable_accounts");
      expect(none.json.providers.beta.can_serve).toBe(false);
      expect((await get("/readyz")).status).toBe(200);
      alpha.pool = creds(1);
      expect((await get("/readyz?strict=1")).status).toBe(200); // one provider is enough
    } finally {
      alpha.pool = pools[0];
      beta.pool = pools[1];
      for (const id of idents) {
        await fetch(`${stack.url}/admin/accounts/${encodeURIComponent(id)}/enable`, { method: "POST", headers: admin });
      }
    }
  });
});

describe("catalog", () => {
  test("bare ids of the primary provider win; config aliases beat other providers' bare ids; -nothinking follows an alias", () => {
    const catalog = new ModelCatalog([
      { id: "deepseek", displayName: "DeepSeek web chat", configured: true, models: DEEPSEEK_MODELS },
      { id: "other", displayName: "Other", configured: true, models: [spec("other", "deepseek-v4-pro"), spec("other", "solo")] },
    ]);
    expect(catalog.resolve("deepseek-v4-pro")?.provider).toBe("deepseek");
    expect(catalog.resolve("other/deepseek-v4-pro")?.provider).toBe("other");
    expect(catalog.resolve("solo")?.provider).toBe("other");
    expect(catalog.resolve("solo", { solo: "deepseek-v4-flash" })?.provider).toBe("deepseek");
    expect(catalog.resolve("my-nothinking", { my: "deepseek-v4-pro" })?.id).toBe("deepseek-v4-pro-nothinking");
    expect(catalog.resolve("unknown/solo")).toBeNull();
    expect(catalog.listed().map((m) => catalog.listedId(m)).slice(-2)).toEqual(["other/deepseek-v4-pro", "other/solo"]);
  });

  test("failures say where to go: unknown provider model, unconfigured provider, ambiguity; a prefix that names no provider is just a name", () => {
    const catalog = new ModelCatalog([
      { id: "deepseek", displayName: "DeepSeek web chat", configured: true, models: DEEPSEEK_MODELS },
      { id: "a", displayName: "A", configured: true, models: [spec("a", "both"), spec("a", "only-a")] },
      { id: "b", displayName: "B", configured: true, models: [spec("b", "both")] },
      { id: "off", displayName: "Off", configured: false, setupHint: "set OFF_KEY", models: [spec("off", "m")] },
    ]);
    expect(catalog.lookup("a/zzz")).toMatchObject({ ok: false, code: "model_not_found", provider: "a" });
    expect(catalog.lookup("off/m")).toMatchObject({ ok: false, code: "provider_unavailable", provider: "off" });
    expect((catalog.lookup("off/m") as { message: string }).message).toContain("set OFF_KEY");
    expect(catalog.lookup("off/unknown")).toMatchObject({ ok: false, code: "provider_unavailable" });
    expect(catalog.lookup("m")).toMatchObject({ ok: false, code: "model_not_found" });
    expect(catalog.lookup("both")).toMatchObject({ ok: false, code: "model_not_found", candidates: ["a/both", "b/both"] });
    expect(catalog.lookup("openai/gpt-4o").ok).toBe(false);
    expect(catalog.resolve("openai/gpt-4o", { "openai/gpt-4o": "a/only-a" })?.provider).toBe("a");
    expect(catalog.resolve("x", { x: "off/m" })).toBeNull();
    expect(catalog.lookup("x", { x: "off/m" })).toMatchObject({ code: "provider_unavailable" });
    expect(catalog.lookupTarget("gpt-4o").ok).toBe(false); // alias targets are ids, not other aliases
    expect(catalog.notAvailableMessage("nope")).toContain("a/only-a");
    expect(catalog.notAvailableMessage("nope")).not.toContain("off/m");
  });

  test("the registry: listeners learn the provider (also of providers registered later), unconfigured providers are 503, the catalog follows configured()", () => {
    const one = new FakeProvider("one", "One", [spec("one", "m1")]);
    const two = new FakeProvider("two", "Two", [spec("two", "m2")]);
    two.isConfigured = false;
    const reg = new ProviderRegistry().register(one);
    const seen: string[] = [];
    reg.onUpstreamError((kind, _a, _m, provider) => seen.push(`${provider}:${kind}`));
    reg.register(two);
    one.listeners.forEach((l) => l("auth", undefined, "x"));
    two.listeners.forEach((l) => l("waf", undefined, "y"));
    expect(seen).toEqual(["one:auth", "two:waf"]);
    expect(reg.primary()).toBe(one);
    let err: unknown;
    try {
      reg.forModel({ id: "m2", provider: "two" });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ status: 503, code: "provider_unavailable" });
    expect((err as Error).message).toContain("TWO_API_KEYS");
    const before = reg.catalog();
    expect(reg.catalog()).toBe(before); // unchanged providers: the same catalog
    expect(reg.models().map((m) => m.id)).toEqual(["m1"]);
    two.isConfigured = true;
    expect(reg.catalog()).not.toBe(before);
    expect(reg.models().map((m) => m.id)).toEqual(["m1", "m2"]);
    expect(reg.forModel({ id: "m2", provider: "two" })).toBe(two);

    // A provider whose hooks throw loses its own models, not anyone else's.
    const bad = new FakeProvider("bad", "Bad", []);
    bad.models = () => {
      throw new Error("catalog file unreadable");
    };
    bad.configured = () => {
      throw new Error("settings unreadable");
    };
    reg.register(bad);
    expect(reg.models().map((m) => m.id)).toEqual(["m1", "m2"]);
    expect(reg.catalog().resolve("one/m1")?.provider).toBe("one");
    expect(reg.snapshots().find((x) => x.provider === "bad")).toMatchObject({ configured: false, canServe: false });
  });
});
