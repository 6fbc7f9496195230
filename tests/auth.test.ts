import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, tempDir, type TestServer } from "./support/test-server.ts";

const KEY = "sk-auth-matrix-key";
let srv: TestServer;
beforeAll(async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ keys: [KEY] }));
  srv = await startTestServer({ dir });
});
afterAll(() => srv?.stop());

type Shape = "openai" | "anthropic" | "gemini";
const ROUTES: { shape: Shape; path: string }[] = [
  { shape: "openai", path: "/v1/chat/completions" },
  { shape: "openai", path: "/chat/completions" },
  { shape: "anthropic", path: "/anthropic/v1/messages" },
  { shape: "anthropic", path: "/v1/messages?beta=true" },
  { shape: "anthropic", path: "/anthropic/v1/messages/count_tokens" },
  { shape: "gemini", path: "/v1beta/models/gemini-2.5-pro:generateContent" },
  { shape: "gemini", path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse" },
];

function expectShape(shape: Shape, status: number, body: any) {
  // (Bun 1.4.5's toMatchObject mutates its subject when given asymmetric matchers, so fields are checked one by one.)
  if (shape === "openai") {
    expect(Object.keys(body)).toEqual(["error"]);
    for (const k of ["message", "type", "code"]) expect(typeof body.error[k]).toBe("string");
    expect(body.error.param).toBeNull();
    if (status === 401) expect(body.error.type).toBe("authentication_error");
    if (status === 400) expect(body.error.type).toBe("invalid_request_error");
  } else if (shape === "anthropic") {
    expect(body.type).toBe("error");
    for (const k of ["message", "type"]) expect(typeof body.error[k]).toBe("string");
    if (status === 401) expect(body.error.type).toBe("authentication_error");
    if (status === 400) expect(body.error.type).toBe("invalid_request_error");
  } else {
    expect(body.error.code).toBe(status);
    for (const k of ["message", "status"]) expect(typeof body.error[k]).toBe("string");
    if (status === 401) expect(body.error.status).toBe("UNAUTHENTICATED");
    if (status === 400) expect(body.error.status).toBe("INVALID_ARGUMENT");
  }
}

async function post(path: string, headers: Record<string, string>, body: unknown = { bogus: true }) {
  const r = await fetch(srv.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

describe("business-route auth matrix", () => {
  for (const { shape, path } of ROUTES) {
    test(`${path}: no key → 401`, async () => {
      const r = await post(path, {});
      expect(r.status).toBe(401);
      expectShape(shape, 401, r.body);
    });
    test(`${path}: wrong key (Bearer, x-api-key, x-goog-api-key, ?key=) → 401`, async () => {
      for (const h of [{ authorization: "Bearer nope" }, { "x-api-key": "nope" }, { "x-goog-api-key": "nope" }] as Record<string, string>[]) {
        const r = await post(path, h);
        expect(r.status).toBe(401);
        expectShape(shape, 401, r.body);
      }
      const q = await post(path + (path.includes("?") ? "&" : "?") + "key=nope", {});
      expect(q.status).toBe(401);
    });
    test(`${path}: a valid key passes auth (then body validation answers 400 in shape)`, async () => {
      const variants: Record<string, string>[] = [{ authorization: `Bearer ${KEY}` }, { authorization: `bearer   ${KEY} ` }, { "x-api-key": KEY }];
      if (shape === "gemini") variants.push({ "x-goog-api-key": KEY });
      for (const h of variants) {
        const r = await post(path, h);
        expect(r.status).toBe(400);
        expectShape(shape, 400, r.body);
      }
      if (shape === "gemini") {
        const q = await post(`${path}${path.includes("?") ? "&" : "?"}key=${KEY}`, {});
        expect(q.status).toBe(400);
      }
    });
  }

  test("a key that differs only in case or by a suffix is rejected", async () => {
    for (const k of [KEY.toUpperCase(), `${KEY}x`, KEY.slice(0, -1)]) {
      expect((await post("/v1/chat/completions", { authorization: `Bearer ${k}` })).status).toBe(401);
    }
  });

  test("validation messages name the offending field", async () => {
    const r = await post("/v1/chat/completions", { authorization: `Bearer ${KEY}` }, { model: 5, messages: [] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("model");
    const m = await post("/anthropic/v1/messages", { "x-api-key": KEY }, { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }], max_tokens: "lots" });
    expect(m.status).toBe(400);
    expect(m.body.error.message).toContain("max_tokens");
  });
});

describe("public routes", () => {
  test("Ollama discovery: version, tags, show", async () => {
    expect(await (await fetch(srv.url + "/api/version")).json()).toEqual({ version: "0.23.1" });
    const tags = await (await fetch(srv.url + "/api/tags")).json();
    expect(tags.models.map((m: { name: string }) => m.name)).toContain("deepseek-v4-pro-nothinking");
    const show = await (await fetch(srv.url + "/api/show", { method: "POST", body: JSON.stringify({ model: "deepseek-v4-vision" }) })).json();
    expect(show.capabilities).toEqual(["tools", "thinking", "vision"]);
    const nothink = await (await fetch(srv.url + "/api/show", { method: "POST", body: JSON.stringify({ model: "gpt-4o-nothinking" }) })).json();
    expect(nothink.capabilities).toEqual(["tools"]);
    expect((await fetch(srv.url + "/api/show", { method: "POST", body: JSON.stringify({ model: "nope" }) })).status).toBe(404);
  });

  test("model lists need no key but accept one", async () => {
    for (const path of ["/v1/models", "/models", "/anthropic/v1/models", "/v1beta/models"]) {
      expect((await fetch(srv.url + path)).status).toBe(200);
      expect((await fetch(srv.url + path, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    }
  });

  test("/v1/models lists the v4 ids with variants and the legacy aliases", async () => {
    const ids: string[] = (await (await fetch(srv.url + "/v1/models")).json()).data.map((m: { id: string }) => m.id);
    for (const base of ["deepseek-v4-flash", "deepseek-v4-pro", "deepseek-v4-flash-search", "deepseek-v4-pro-search", "deepseek-v4-vision"]) {
      expect(ids).toContain(base);
      expect(ids).toContain(`${base}-nothinking`);
    }
    for (const legacy of ["deepseek-chat", "deepseek-reasoner", "deepseek-chat-search", "deepseek-reasoner-search"]) expect(ids).toContain(legacy);
    expect(ids.slice(0, 2)).toEqual(["deepseek-v4-flash", "deepseek-v4-flash-nothinking"]);
  });

  test("/v1/models/{id} resolves aliases; unknown → 404 naming valid ids", async () => {
    const r = await fetch(srv.url + "/v1/models/gpt-4o");
    expect(await r.json()).toMatchObject({ id: "gpt-4o", object: "model", ds2api: { maps_to: "deepseek-v4-flash" } });
    const legacy = await (await fetch(srv.url + "/v1/models/deepseek-chat")).json();
    expect(legacy).toMatchObject({ id: "deepseek-chat", ds2api: { maps_to: "deepseek-v4-flash-nothinking" } });
    const native = await (await fetch(srv.url + "/v1/models/deepseek-v4-pro")).json();
    expect(native.id).toBe("deepseek-v4-pro");
    expect(native.ds2api).toBeUndefined();
    const u = await fetch(srv.url + "/v1/models/gpt-3.5-turbo");
    expect(u.status).toBe(404);
    expect((await u.json()).error.message).toContain("deepseek-v4-flash");
  });

  test("/anthropic/v1/models has the official fields", async () => {
    const body = await (await fetch(srv.url + "/anthropic/v1/models")).json();
    expect(body.data[0].id).toBe("claude-opus-4-6");
    expect(body.data[0].type).toBe("model");
    expect(typeof body.data[0].display_name).toBe("string");
    expect(Number.isNaN(Date.parse(body.data[0].created_at))).toBe(false);
    expect(body.has_more).toBe(false);
  });
});
