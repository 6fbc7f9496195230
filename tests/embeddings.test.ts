import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { deterministicEmbedding } from "../src/core/embeddings/deterministic.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { deepseekEngine } from "./support/deepseek-engine.ts";
import { setStoredSetting } from "./support/stored-settings.ts";

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack({ accounts: 1 });
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack?.stop());

test("not configured → 501 explaining how to enable it", async () => {
  const err = await client.embeddings.create({ model: "deepseek-v4-flash", input: "x" }).catch((e) => e);
  expect(err.status).toBe(501);
  expect(err.message).toContain("embeddings.provider");
});

test("deterministic provider: the SDK's default base64 decodes to the same floats as encoding_format float", async () => {
  await setStoredSetting(stack.server.ctx, "section.embeddings", { provider: "deterministic" });
  const b64 = await client.embeddings.create({ model: "gpt-4o", input: ["hello", "world"] });
  const flt = await client.embeddings.create({ model: "gpt-4o", input: ["hello", "world"], encoding_format: "float" });
  expect(b64.data.length).toBe(2);
  expect(b64.data[0]!.embedding.length).toBe(64);
  for (let i = 0; i < 64; i++) expect(b64.data[0]!.embedding[i]!).toBeCloseTo(flt.data[0]!.embedding[i]!, 5);
  expect(flt.data[0]!.embedding).toEqual(deterministicEmbedding("hello"));
  expect(flt.data[1]!.embedding).not.toEqual(flt.data[0]!.embedding);
  expect(flt.usage.prompt_tokens).toBeGreaterThan(0);
  const d = await client.embeddings.create({ model: "gpt-4o", input: "x", dimensions: 8, encoding_format: "float" });
  expect(d.data[0]!.embedding.length).toBe(8);
  expect(deepseekEngine(stack.server.ctx).pool.status().inUse).toBe(0);
  expect(stack.sim.state.counters.logins).toBe(0);
});

test("bad input → 400", async () => {
  const err = await client.embeddings.create({ model: "gpt-4o", input: "" }).catch((e) => e);
  expect(err.status).toBe(400);
  const bad = await client.embeddings.create({ model: "nope-model", input: "x" }).catch((e) => e);
  expect(bad.status).toBe(400);
});
