/**
 * Configuring OnDemand: ONDEMAND_APIKEYS / ONDEMAND_API_BASE, the config.json `ondemand` section (keys, api_base,
 * the model → endpointId map, sync mode) imported idempotently and exported without a key in clear, an
 * unconfigured provider, and `--simulate` serving OnDemand.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import OpenAI from "openai";
import { prepareSimulation } from "../src/cli/simulate.ts";
import { ConfigError, parseDs2ApiConfig } from "../src/config/ds2api-config.ts";
import { resolveOptions } from "../src/config/options.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startServer } from "../src/server.ts";
import { OD_API_KEY, OD_KEYS, odAdmin, odModel, startOdStack, type OdStack } from "./support/ondemand-stack.ts";

setDefaultTimeout(30_000);

let stack: OdStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

function client(s: OdStack): OpenAI {
  return new OpenAI({ apiKey: OD_API_KEY, baseURL: `${s.url}/v1`, maxRetries: 0 });
}

describe("options and config parsing", () => {
  test("ONDEMAND_APIKEYS is split on commas and trimmed; ONDEMAND_API_BASE loses its trailing slash", () => {
    const o = resolveOptions([], { ONDEMAND_APIKEYS: " k1 , k2,,k3 ", ONDEMAND_API_BASE: "http://x.test/chat/v1/" });
    expect(o.ondemandApiKeys).toEqual(["k1", "k2", "k3"]);
    expect(o.ondemandApiBase).toBe("http://x.test/chat/v1");
    expect(resolveOptions([], {}).ondemandApiKeys).toEqual([]);
  });

  test("the ondemand section: keys apart from the stored section, masked keys skipped with a warning, bad fields refused", () => {
    const { config, warnings } = parseDs2ApiConfig({ ondemand: { api_base: "https://api.on-demand.io/chat/v1", api_keys: ["a-key", " b-key ", "ab****yz"], models: { "GPT-5": "predefined-openai-gpt5" } } });
    expect(config.ondemandKeys).toEqual(["a-key", "b-key"]);
    expect(config.sections.ondemand).toEqual({ api_base: "https://api.on-demand.io/chat/v1", models: { "gpt-5": "predefined-openai-gpt5" } });
    expect(warnings.join(" ")).toContain("masked");
    expect(() => parseDs2ApiConfig({ ondemand: { api_base: "ftp://x", models: { a: 1 }, response_mode: "streaming" } })).toThrow(ConfigError);
  });
});

describe("the ondemand section at work", () => {
  test("models: the setting extends and trims the built-in map; sync mode; config import is idempotent across restarts", async () => {
    stack = await startOdStack({
      keys: [OD_KEYS[0]!],
      ondemand: { api_keys: [OD_KEYS[1]], models: { "gpt-5": "predefined-openai-gpt5", "grok-4": "" }, response_mode: "sync" },
    });
    stack.sim.state.endpoints.add("predefined-openai-gpt5");
    const provider = stack.server.ctx.providers.get("ondemand")!;
    const ids = provider.models().map((m) => m.id);
    expect(ids).toContain("gpt-5");
    expect(ids).not.toContain("grok-4");
    expect(provider.models().every((m) => m.provider === "ondemand")).toBe(true);
    // The list is the same object while settings are unchanged, so the registry keeps its model catalog.
    expect(provider.models()).toBe(provider.models());
    expect(stack.server.ctx.providers.catalog()).toBe(stack.server.ctx.providers.catalog());
    expect(await provider.credentials!.list()).toHaveLength(2); // one from the env, one from the file
    stack.sim.state.script({ answer: "synced" }, { answer: "synced again" });
    const r = await client(stack).chat.completions.create({ model: odModel("gpt-5"), messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("synced");
    let streamed = "";
    for await (const c of await client(stack).chat.completions.create({ model: odModel("gpt-5"), messages: [{ role: "user", content: "x" }], stream: true })) streamed += c.choices[0]?.delta.content ?? "";
    expect(streamed).toBe("synced again");
    expect(stack.sim.state.queries().map((q) => [(q.body as { responseMode: string }).responseMode, (q.body as { endpointId: string }).endpointId])).toEqual([
      ["sync", "predefined-openai-gpt5"],
      ["sync", "predefined-openai-gpt5"],
    ]);
    await stack.restart();
    expect(await stack.server.ctx.providers.get("ondemand")!.credentials!.list()).toHaveLength(2);
  });

  test("export keeps the section without a key in clear; importing the export changes nothing", async () => {
    stack = await startOdStack({ ondemand: { models: { "gpt-5": "predefined-openai-gpt5" } } });
    for (const q of ["", "?include_secrets=1"]) {
      const res = await odAdmin(stack, `/admin/config/export${q}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const k of OD_KEYS) expect(text).not.toContain(k);
      const body = JSON.parse(text) as { config: { ondemand: { api_base: string; api_keys: string[]; models: Record<string, string>; _note: string } } };
      expect(body.config.ondemand.api_base).toBe(stack.sim.apiBase);
      expect(body.config.ondemand.models).toEqual({ "gpt-5": "predefined-openai-gpt5" });
      expect(body.config.ondemand.api_keys).toHaveLength(3);
      expect(body.config.ondemand.api_keys.every((k) => k.includes("****"))).toBe(true);
      expect(body.config.ondemand._note).toContain("masked");
      const back = await odAdmin(stack, "/admin/config/import", { method: "POST", body: JSON.stringify(body.config) });
      expect(back.status).toBe(200);
      expect(((await back.json()) as { warnings: string[] }).warnings.join(" ")).toContain("masked");
      expect(await stack.server.ctx.providers.get("ondemand")!.credentials!.list()).toHaveLength(3);
    }
  });

  test("without keys OnDemand is registered but unconfigured: 503 naming how to configure it; keys added at run time work", async () => {
    stack = await startOdStack({ keys: [] });
    const provider = stack.server.ctx.providers.get("ondemand")!;
    expect(provider.configured!()).toBe(false);
    const err = await client(stack).chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.message).toContain("ONDEMAND_APIKEYS");
    const result = await provider.credentials!.importText(`# my keys\n${OD_KEYS[0]}, ${OD_KEYS[1]}\n\nab****yz\n`);
    expect(result).toMatchObject({ added: 2, updated: 0 });
    expect(result.skipped).toHaveLength(1);
    expect(JSON.stringify(result)).not.toContain(OD_KEYS[0]);
    expect(provider.configured!()).toBe(true);
    const r = await client(stack).chat.completions.create({ model: odModel("gpt-4o"), messages: [{ role: "user", content: "now" }] });
    expect(r.choices[0]!.message.content).toContain("now");
    const test1 = await provider.credentials!.test((await provider.credentials!.list())[0]!.id);
    expect(test1.ok).toBe(true);
  });
});

describe("--simulate", () => {
  test("serves OnDemand next to DeepSeek with a demo key", async () => {
    const base = resolveOptions(["--port", "0", "--host", "127.0.0.1", "--simulate"], { DS2API_ADMIN_KEY: "sim-admin", DS2API_POW_WORKERS: "1" });
    const sim = await prepareSimulation(base, false);
    const running = await startServer(sim.options, createLogger("error"));
    try {
      const c = new OpenAI({ apiKey: "sk-ds2api-demo", baseURL: `${running.url}/v1`, maxRetries: 0 });
      const r = await c.chat.completions.create({ model: odModel("claude-4-sonnet"), messages: [{ role: "user", content: "Hello there" }] });
      expect(r.choices[0]!.message.content).toContain("simulated OnDemand");
      expect(r.choices[0]!.message.content).toContain("Hello there");
    } finally {
      await running.stop();
      await sim.stop();
    }
  });
});
