/** Volcengine configuration: env, config.json section (import / export round trip), webids.json imports, the parser and error rules. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { ConfigError, parseDs2ApiConfig } from "../src/config/ds2api-config.ts";
import { OptionsError, resolveOptions } from "../src/config/options.ts";
import { parseWebIdImport } from "../src/upstream/volcengine/credentials/import-text.ts";
import { errorFromResponse } from "../src/upstream/volcengine/errors.ts";
import { ChatStreamParser } from "../src/upstream/volcengine/stream-parser.ts";
import { startVolcStack, viewOf, VOLC_AUTH, volcAdmin, volcChat, WEB_IDS, type VolcStack } from "./support/volc-stack.ts";

// Each test may start its own server + simulator: allow for a loaded machine (no test asserts on time).
setDefaultTimeout(30_000);

const [A, B, C] = WEB_IDS as [string, string, string];

async function withStack(opts: Parameters<typeof startVolcStack>[0], fn: (s: VolcStack) => Promise<void>): Promise<void> {
  const s = await startVolcStack(opts);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

describe("webids.json layouts (importText)", () => {
  const ids = (text: string) => parseWebIdImport(text).entries.map((e) => [e.webId, e.usage, e.maxUsage]);

  test("an array of strings, and one id per line (comments and commas allowed)", () => {
    expect(ids(JSON.stringify([A, B]))).toEqual([[A, undefined, undefined], [B, undefined, undefined]]);
    expect(ids(`# my ids\n${A}\n\n  ${B}  \n${C},7400000000000000009\n`).map((x) => x[0])).toEqual([A, B, C, "7400000000000000009"]);
  });

  test("an array of objects with any of the id and count field names", () => {
    const doc = [
      { webId: A, usageCount: 3 },
      { webid: B, usage: 4 },
      { id: C, count: 5, maxUsage: 9 },
      { value: "7400000000000000004", used: 6 },
      { xWebId: "7400000000000000005", usage_count: 7 },
      { x_web_id: "7400000000000000006" },
      { web_id: "7400000000000000007", max_usage: 2, authorization: "Bearer own", label: "laptop" },
    ];
    const r = parseWebIdImport(JSON.stringify(doc));
    expect(r.skipped).toEqual([]);
    expect(r.entries.map((e) => [e.webId, e.usage, e.maxUsage])).toEqual([
      [A, 3, undefined],
      [B, 4, undefined],
      [C, 5, 9],
      ["7400000000000000004", 6, undefined],
      ["7400000000000000005", 7, undefined],
      ["7400000000000000006", undefined, undefined],
      ["7400000000000000007", undefined, 2],
    ]);
    expect(r.entries.at(-1)).toMatchObject({ authorization: "Bearer own", label: "laptop" });
  });

  test("an object of id → count or id → object", () => {
    expect(ids(JSON.stringify({ [A]: 2, [B]: { usageCount: 1, maxUsage: 5 } }))).toEqual([[A, 2, undefined], [B, 1, 5]]);
  });

  test("any layout inside a wrapper, with the wrapper's maxUsage for the entries it brings", () => {
    for (const key of ["webids", "webIds", "data", "items"]) {
      expect(ids(JSON.stringify({ maxUsage: 50, [key]: [A, { webId: B, usageCount: 1, maxUsage: 7 }] }))).toEqual([[A, undefined, 50], [B, 1, 7]]);
    }
    expect(ids(JSON.stringify({ max_usage: 10, webIds: { [A]: 3 } }))).toEqual([[A, 3, 10]]);
  });

  test("what is not taken is reported, never with the whole id", () => {
    const r = parseWebIdImport(JSON.stringify([A, "short", "has space 0123456789", A, { usage: 3 }, 42.5, null]));
    expect(r.entries.map((e) => e.webId)).toEqual([A]);
    expect(r.skipped.map((s) => s.reason)).toEqual([
      "too short to be a web id",
      "contains spaces or characters that cannot go in an HTTP header",
      "duplicate in this import",
      "no web id found in this entry",
      "no web id found in this entry",
      "not a web id or an object with one",
    ]);
    expect(JSON.stringify(r.skipped)).not.toContain(A);
    expect(parseWebIdImport("{not json").skipped[0]!.reason).toContain("not valid JSON");
    expect(parseWebIdImport("  ").skipped[0]!.reason).toBe("nothing to import");
  });

  test("through the running server: counts kept for new entries, existing ones updated, views masked", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, web_ids: [A] } }, async (s) => {
      const r = await volcAdmin(s).importText(JSON.stringify({ webids: [{ webId: A, usageCount: 9 }, { webId: B, usageCount: 4 }, "bad id"], maxUsage: 20 }));
      expect(r.added).toBe(1);
      expect(r.updated).toBe(1);
      expect(r.skipped.length).toBe(1);
      expect((await viewOf(s, A)).usage).toBe(0); // the live count of an existing entry is kept
      expect((await viewOf(s, B))).toMatchObject({ usage: 4, maxUsage: 20 });
      expect((await viewOf(s, B)).preview).toBe("74****02");
      expect(JSON.stringify((await volcAdmin(s).list()))).not.toContain(B);
      const added = await volcAdmin(s).add([{ secret: C, label: "third", maxUsage: 3 }, { secret: "x" }]);
      expect(added).toMatchObject({ added: 1, updated: 0 });
      expect(added.skipped).toEqual([{ entry: "****", reason: "too short to be a web id" }]);
      expect((await viewOf(s, C))).toMatchObject({ label: "third", maxUsage: 3, state: "ok" });
      expect(await volcAdmin(s).setEnabled((await viewOf(s, C)).id, false)).toBe(true);
      expect((await viewOf(s, C)).state).toBe("disabled");
      expect(await volcAdmin(s).remove((await viewOf(s, C)).id)).toBe(true);
      expect((await volcAdmin(s).list()).length).toBe(2);
    });
  });

  test("the admin test sends one small request with exactly that entry", async () => {
    await withStack({ sim: { webIds: [A] }, volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] } }, async (s) => {
      const ok = await volcAdmin(s).test((await viewOf(s, A)).id);
      expect(ok.ok).toBe(true);
      expect(ok.text).toContain("Volcengine simulator");
      const bad = await volcAdmin(s).test((await viewOf(s, B)).id);
      expect(bad.ok).toBe(false);
      expect(bad.message).toContain("AccessDenied");
      expect(bad.message).not.toContain(B);
      expect((await viewOf(s, B)).state).toBe("bad");
      expect(s.sim.state.chats().map((r) => r.webId)).toEqual([A, B]);
    });
  });
});

describe("environment", () => {
  test("VOLCENGINE_X_WEB_ID (comma-separated) seeds the pool once; VOLCENGINE_AUTHORIZATION is the global authorization", async () => {
    await withStack({ volcengine: {}, env: { VOLCENGINE_X_WEB_ID: ` ${A}, ${B} ,${A}`, VOLCENGINE_AUTHORIZATION: VOLC_AUTH } }, async (s) => {
      expect((await volcAdmin(s).list()).length).toBe(2);
      expect((await volcChat(s)).status).toBe(200);
      expect(s.sim.state.chats().at(-1)!.headers.authorization).toBe(VOLC_AUTH);
      await s.restart();
      expect((await volcAdmin(s).list()).length).toBe(2);
      expect((await volcAdmin(s).list()).reduce((n, v) => n + v.usage, 0)).toBe(1);
    });
  });

  test("VOLCENGINE_API_URL defaults to the console's Chat URL; bad values are refused at start", () => {
    const o = resolveOptions([], {});
    expect(o.volcengine).toEqual({ apiUrl: undefined, webIds: [], authorization: undefined });
    expect(() => resolveOptions([], { VOLCENGINE_API_URL: "ftp://x" })).toThrow(OptionsError);
    expect(() => resolveOptions([], { VOLCENGINE_X_WEB_ID: "ok-web-id-123,has space" })).toThrow(OptionsError);
  });

  test("without any web id the provider is unconfigured and its turns answer 503 naming how to configure it", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH } }, async (s) => {
      expect(s.server.ctx.providers.get("volcengine")!.configured!()).toBe(false);
      const r = await volcChat(s);
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.body)).toContain("VOLCENGINE_X_WEB_ID");
      await volcAdmin(s).add([{ secret: A }]);
      expect(s.server.ctx.providers.get("volcengine")!.configured!()).toBe(true);
      expect((await volcChat(s)).status).toBe(200);
    });
  });
});

describe("URL, body style and the simulator's strict risk-control mode", () => {
  test("another region / version segment works, the OpenAI-style body is a setting, browser headers pass strict mode", async () => {
    await withStack({ sim: { strictHeaders: true }, volcengine: { authorization: VOLC_AUTH, body_style: "openai", web_ids: [A] } }, async (s) => {
      const url = s.sim.chatUrl.replace("/cn-beijing/2024-01-29/", "/cn-shanghai/2024/");
      const { store, changes } = s.server.ctx;
      await store.settings.set("provider.volcengine.settings", { ...(await store.settings.get<Record<string, unknown>>("provider.volcengine.settings")), api_url: url });
      changes.publish({ topic: "settings.changed", ids: ["provider.volcengine.settings"] });
      await changes.settled();
      const r = await volcChat(s, { text: "strict" });
      expect(r.status).toBe(200);
      const req = s.sim.state.chats().at(-1)!;
      expect(req.path).toBe("/ark/bff/api/cn-shanghai/2024/Chat");
      expect(req.body).toMatchObject({ model: "deepseek-v3-1", stream: true });
      expect((req.body as { messages: { role: string; content: string }[] }).messages[0]!.content).toContain("strict");
      // the same call without browser headers is refused by the strict mode (a WAF page)
      const bare = await fetch(url, { method: "POST", headers: { "x-web-id": A, authorization: VOLC_AUTH, "content-type": "application/json" }, body: JSON.stringify(req.body) });
      expect(bare.status).toBe(403);
      expect(await bare.text()).toContain("安全验证");
      // an unknown action gets the BFF envelope
      const other = await fetch(url.replace("/Chat", "/ListEndpoints"), { method: "POST", body: "{}" });
      expect(((await other.json()) as { ResponseMetadata: { Error: { Code: string } } }).ResponseMetadata.Error.Code).toBe("InvalidActionOrVersion");
    });
  });
});

describe("config.json volcengine section", () => {
  test("validation names every problem", () => {
    try {
      parseDs2ApiConfig({ volcengine: { api_url: "nope", max_usage: -1, body_style: "xml", web_ids: ["short", { authorization: "x" }, 5] } });
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const p = (e as ConfigError).problems.join("\n");
      expect(p).toContain("volcengine.api_url is not a URL");
      expect(p).toContain("volcengine.max_usage must be an integer");
      expect(p).toContain("volcengine.body_style must be one of console, openai");
      expect(p).toContain("volcengine.web_ids[0].web_id is too short");
      expect(p).toContain("volcengine.web_ids[1].web_id is required");
    }
  });

  test("export keeps the section; web ids and authorizations only with include_secrets; the file round-trips", async () => {
    const section = { api_url: "http://127.0.0.1:1/ark/bff/api/cn-beijing/2024-01-29/Chat", authorization: VOLC_AUTH, max_usage: 40, daily_reset: true, body_style: "openai" as const, web_ids: [A, { web_id: B, authorization: "Bearer b-own-auth", max_usage: 0, label: "B" }] };
    await withStack({ volcengine: section }, async (s) => {
      const get = async (q: string) => (await (await fetch(`${s.url}/admin/config/export${q}`, { headers: { authorization: `Bearer ${s.adminKey}` } })).json()) as { config: Record<string, unknown>; json: string };
      const plain = await get("");
      expect(plain.config.volcengine).toEqual({ api_url: section.api_url, max_usage: 40, daily_reset: true, body_style: "openai" });
      expect(plain.json).not.toContain(A);
      expect(plain.json).not.toContain(VOLC_AUTH);
      const full = await get("?include_secrets=1");
      expect(full.config.volcengine).toEqual(section);
      // the exported file imports into an empty store as the same pool
      const parsed = parseDs2ApiConfig(full.json);
      expect(parsed.config.volcengine).toEqual({ ...section, web_ids: [{ web_id: A, authorization: undefined, max_usage: undefined, label: undefined }, { web_id: B, authorization: "Bearer b-own-auth", max_usage: 0, label: "B" }] });
    });
  });

  test("an import in replace mode replaces the pool; merge adds to it", async () => {
    await withStack({ volcengine: { authorization: VOLC_AUTH, web_ids: [A, B] } }, async (s) => {
      const post = (mode: string, doc: unknown) =>
        fetch(`${s.url}/admin/config/import?mode=${mode}`, { method: "POST", headers: { authorization: `Bearer ${s.adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ json: JSON.stringify(doc), mode }) });
      expect((await post("merge", { volcengine: { web_ids: [C] } })).status).toBe(200);
      expect((await volcAdmin(s).list()).length).toBe(3);
      expect((await post("replace", { keys: ["sk-volc-test-key"], volcengine: { authorization: VOLC_AUTH, web_ids: [C] } })).status).toBe(200);
      expect((await volcAdmin(s).list()).map((v) => v.preview)).toEqual(["74****03"]);
      expect((await volcChat(s)).status).toBe(200);
    });
  });
});

describe("stream parser and error rules", () => {
  test("data lines with or without a space, CRLF, comments, event / id lines; PascalCase and usage", () => {
    const p = new ChatStreamParser();
    const lines = [
      ": comment",
      "event: message",
      "id: 1",
      'data:{"choices":[{"delta":{"reasoning_content":"r1"}}]}\r',
      'data: {"Choices":[{"Delta":{"ReasoningContent":"r2","Content":"t1"}}]}',
      "",
      'data: {"choices":[{"delta":{"content":"t2"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":2}}}',
      "data: [DONE]",
    ];
    const out = lines.flatMap((l) => p.line(l));
    expect(out).toEqual([
      { type: "reasoning", text: "r1" },
      { type: "reasoning", text: "r2" },
      { type: "text", text: "t1" },
      { type: "text", text: "t2" },
      { type: "finish", reason: "stop" },
      { type: "usage", promptTokens: 3, completionTokens: 4, reasoningTokens: 2 },
    ]);
    expect(p.done).toBe(true);
    expect(() => p.end()).not.toThrow();
  });

  test("error lines are classified: quota, auth, rate limit, anything else a refusal", () => {
    const kind = (line: string) => {
      try {
        new ChatStreamParser().line(line);
        return "none";
      } catch (e) {
        return (e as { kind: string }).kind;
      }
    };
    expect(kind('data: {"ResponseMetadata":{"Error":{"Code":"ExperienceQuotaExceeded","Message":"x"}}}')).toBe("quota");
    expect(kind('data: {"ResponseMetadata":{"Error":{"Code":"AccessDenied","Message":"x"}}}')).toBe("auth");
    expect(kind('data: {"error":{"code":"TooManyRequests","message":"x"}}')).toBe("rate_limit");
    expect(kind('data: {"error":{"message":"今日体验次数已用完"}}')).toBe("quota");
    expect(kind('data: {"error":{"code":"ContentRisk","message":"x"}}')).toBe("rejected");
    expect(kind("data: {oops")).toBe("protocol");
    expect(kind("garbage")).toBe("protocol");
  });

  test("answers that are not streams: WAF pages at any status, envelopes with x-real-status, plain statuses", () => {
    const k = (status: number, real: number | undefined, type: string, body: string) => errorFromResponse(status, real, type, body, []).kind;
    expect(k(200, undefined, "text/html", "<html><body>安全验证 captcha</body></html>")).toBe("waf");
    expect(k(403, undefined, "text/html", "<html>blocked</html>")).toBe("waf");
    expect(k(200, 403, "application/json", '{"ResponseMetadata":{"Error":{"Code":"AccessDenied","Message":"no"}}}')).toBe("auth");
    expect(k(200, 403, "application/json", '{"ResponseMetadata":{"Error":{"Code":"InvalidCSRFToken","Message":"no"}}}')).toBe("csrf");
    expect(k(200, 429, "application/json", '{"ResponseMetadata":{"Error":{"Code":"Whatever","Message":"no"}}}')).toBe("rate_limit");
    expect(k(200, 500, "application/json", '{"ResponseMetadata":{"Error":{"Code":"InternalError","Message":"no"}}}')).toBe("upstream_http");
    expect(k(200, 400, "application/json", '{"ResponseMetadata":{"Error":{"Code":"InvalidParameter","Message":"no"}}}')).toBe("rejected");
    expect(k(502, undefined, "text/plain", "bad gateway")).toBe("upstream_http");
    expect(k(401, undefined, "text/plain", "")).toBe("auth");
    expect(k(200, undefined, "application/json", "")).toBe("protocol");
    // secrets in an upstream message are removed
    const e = errorFromResponse(200, 400, "application/json", `{"ResponseMetadata":{"Error":{"Code":"InvalidParameter","Message":"bad id ${A}"}}}`, [A]);
    expect(e.message).not.toContain(A);
  });
});
