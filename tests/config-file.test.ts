import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { loadStartupConfig } from "../src/config/config-loader.ts";
import { importConfig, importConfigInto, readConfig } from "../src/config/config-sync.ts";
import { buildDs2ApiConfig, ConfigError, parseDs2ApiConfig } from "../src/config/ds2api-config.ts";
import { canonicalMobile, loginMobile } from "../src/config/mobile.ts";
import { resolveOptions } from "../src/config/options.ts";
import { createLogger } from "../src/observability/logger.ts";
import type { StoreApi } from "../src/store/store-api.ts";
import { openStore } from "../src/store/open-store.ts";
import { tempDir } from "./support/test-server.ts";
import { storeWith } from "./support/store-with.ts";

const SAMPLE = {
  _comment: "kept verbatim",
  keys: ["legacy-key"],
  api_keys: [{ key: "sk-one", name: "first", remark: "ci" }, { key: "sk-two" }, "sk-three"],
  accounts: [
    { email: "Alice@Example.com", password: " pw-a ", name: "alice", remark: "main", custom_field: 7 },
    { mobile: "138 0013 8000", password: "pw-m" },
    { mobile: "+86 13900139000", password: "pw-n", token: "legacy-token-abc" },
    { password: "orphan" },
  ],
  proxies: [{ type: "socks5", host: "127.0.0.1", port: 1080, username: "u", password: "p" }],
  model_aliases: { "My-Model": "deepseek-v4-pro" },
  claude_mapping: { fast: "deepseek-chat", slow: "deepseek-reasoner" },
  runtime: { account_max_inflight: 3, token_refresh_interval_hours: 12 },
  responses: { store_ttl_seconds: 600 },
  auto_delete: { mode: "single" },
  thinking_injection: { enabled: false },
};

async function storeIn(dir: string, name = "a.sqlite"): Promise<StoreApi> {
  return await openStore({ sqlitePath: join(dir, name) });
}

describe("ds2api config.json parsing", () => {
  test("normalises keys, accounts, aliases and keeps unknown keys", () => {
    const { config, warnings } = parseDs2ApiConfig(SAMPLE);
    // api_keys wins over keys; plain strings accepted; order kept
    expect(config.apiKeys!.map((k) => k.key)).toEqual(["sk-one", "sk-two", "sk-three"]);
    expect(config.accounts!.map((a) => a.identifier)).toEqual(["alice@example.com", "+8613800138000", "+8613900139000"]);
    expect(config.accounts![0]!.password).toBe("pw-a");
    expect(config.accounts![0]!.extra).toEqual({ custom_field: 7 });
    expect(config.modelAliases).toEqual({ "my-model": "deepseek-v4-pro" });
    expect(config.extra._comment).toBe("kept verbatim");
    expect(config.extra.claude_mapping).toEqual(SAMPLE.claude_mapping);
    expect(warnings.some((w) => w.includes("claude_mapping"))).toBe(true);
    expect(warnings.some((w) => w.includes("accounts[3]"))).toBe(true);
    expect(config.proxies![0]!.id).toMatch(/^proxy_[0-9a-f]{12}$/);
  });

  test("accepts base64 (standard and URL alphabet) and a base64: prefix", () => {
    const json = JSON.stringify(SAMPLE);
    const std = Buffer.from(json).toString("base64");
    const url = Buffer.from(json).toString("base64url");
    for (const text of [json, std, url, `base64:${std}`, `"${std}"`]) {
      expect(parseDs2ApiConfig(text).config.apiKeys!.length).toBe(3);
    }
  });

  test("bad configs list every problem and never crash", () => {
    const cases: [unknown, RegExp][] = [
      ["{not json", /not valid JSON/],
      ["%%%", /neither JSON nor base64/],
      [[1, 2], /must be a JSON object/],
      [{ accounts: {} }, /accounts must be an array/],
      [{ runtime: { account_max_inflight: 999 } }, /account_max_inflight must be an integer between 1 and 256/],
      [{ runtime: { account_max_inflight: 4, global_max_inflight: 2 } }, /global_max_inflight must be ≥/],
      [{ proxies: [{ type: "ftp", host: "h", port: 1 }] }, /must be one of http, https, socks5, socks5h/],
      [{ accounts: [{ email: "a@b.c", password: "x", proxy_id: "nope" }] }, /unknown proxy_id/],
      [{ auto_delete: { mode: "sometimes" } }, /auto_delete.mode/],
      [{ api_keys: [{ key: 5 }, { name: "x" }] }, /api_keys\[1\].key/],
      [{ model_aliases: { a: 3 } }, /model_aliases.a/],
    ];
    for (const [input, re] of cases) {
      let err: unknown;
      try {
        parseDs2ApiConfig(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
    }
  });
});

describe("config import/export through sqlite", () => {
  test("import → export → import is a round trip and import is idempotent", async () => {
    const dir = tempDir();
    const a = await storeIn(dir, "a.sqlite");
    const first = await importConfig(a, parseDs2ApiConfig(SAMPLE).config, { mode: "merge", acceptTokens: true });
    expect(first).toMatchObject({ importedKeys: 3, importedAccounts: 3, updatedAccounts: 0 });
    const again = await importConfig(a, parseDs2ApiConfig(SAMPLE).config, { mode: "merge", acceptTokens: true });
    expect(again).toMatchObject({ importedKeys: 0, importedAccounts: 0, updatedAccounts: 3 });
    expect(await a.apiKeys.count()).toBe(3);
    expect(await a.accounts.count()).toBe(3);
    expect((await a.accounts.get("+8613900139000"))!.token).toBe("legacy-token-abc");

    const exported = buildDs2ApiConfig(await readConfig(a), { includeSecrets: true });
    expect(JSON.stringify(exported)).not.toContain("legacy-token-abc");
    expect(exported._comment).toBe("kept verbatim");

    const b = await storeIn(dir, "b.sqlite");
    await importConfig(b, parseDs2ApiConfig(JSON.stringify(exported)).config, { mode: "merge", acceptTokens: true });
    const reExported = buildDs2ApiConfig(await readConfig(b), { includeSecrets: true });
    expect(reExported).toEqual(exported);
    await a.close();
    await b.close();
  });

  test("export without secrets omits passwords; re-import keeps stored passwords", async () => {
    const dir = tempDir();
    const s = await storeIn(dir);
    await importConfig(s, parseDs2ApiConfig(SAMPLE).config, { mode: "merge", acceptTokens: false });
    const masked = buildDs2ApiConfig(await readConfig(s), { includeSecrets: false });
    const text = JSON.stringify(masked);
    for (const secret of ["pw-a", "pw-m", "pw-n", '"p"']) expect(text).not.toContain(secret);
    await importConfig(s, parseDs2ApiConfig(masked).config, { mode: "merge", acceptTokens: false });
    expect((await s.accounts.get("alice@example.com"))!.password).toBe("pw-a");
    await s.close();
  });

  test("replace mode drops what the new document does not have", async () => {
    const dir = tempDir();
    const s = await storeIn(dir);
    await importConfig(s, parseDs2ApiConfig(SAMPLE).config, { mode: "merge", acceptTokens: false });
    await importConfig(s, parseDs2ApiConfig({ keys: ["only"], accounts: [{ email: "z@z.z", password: "q" }] }).config, {
      mode: "replace",
      acceptTokens: false,
    });
    expect((await s.apiKeys.list()).map((k) => k.hash)).toEqual([s.apiKeys.hashOf("only")]);
    expect((await s.accounts.list()).map((a) => a.identifier)).toEqual(["z@z.z"]);
    expect((await readConfig(s)).modelAliases).toEqual({});
    await s.close();
  });

  test("a changed password clears the stored token", async () => {
    const dir = tempDir();
    const s = await storeIn(dir);
    await importConfig(s, parseDs2ApiConfig({ accounts: [{ email: "t@t.t", password: "one", token: "tok" }] }).config, { mode: "merge", acceptTokens: true });
    expect((await s.accounts.get("t@t.t"))!.token).toBe("tok");
    await importConfig(s, parseDs2ApiConfig({ accounts: [{ email: "t@t.t", password: "two" }] }).config, { mode: "merge", acceptTokens: false });
    expect((await s.accounts.get("t@t.t"))!.token).toBeUndefined();
    await s.close();
  });

  test("an import is one transaction: when the caller's transaction fails, nothing of the document is stored", async () => {
    const dir = tempDir();
    const s = await storeIn(dir);
    const doc = parseDs2ApiConfig({ ...SAMPLE, volcengine: { api_url: "https://volc.example/Chat", web_ids: ["7400000000000000009"] }, ondemand: { api_keys: ["od-key-0123456789"] } }).config;
    let err: unknown;
    try {
      await s.transaction(async (tx) => {
        const r = await importConfigInto(tx, doc, { mode: "merge", acceptTokens: true });
        expect(r.importedAccounts).toBe(3);
        throw new Error("audit row refused");
      });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe("audit row refused");
    expect(await s.accounts.count()).toBe(0);
    expect(await s.apiKeys.count()).toBe(0);
    expect(await s.credentials.count("volcengine")).toBe(0);
    expect(await s.credentials.count("ondemand")).toBe(0);
    const before = await s.settings.all();
    expect(Object.keys(before).filter((k) => k !== "secret_key_meta")).toEqual([]);
    // the same document through importConfig lands whole
    await importConfig(s, doc, { mode: "merge", acceptTokens: true });
    expect(await s.accounts.count()).toBe(3);
    expect(await s.credentials.count("volcengine")).toBe(1);
    expect(await s.credentials.count("ondemand")).toBe(1);
    expect((await readConfig(s)).volcengine).toMatchObject({ api_url: "https://volc.example/Chat", web_ids: [{ web_id: "7400000000000000009" }] });
    await s.close();
  });
});

describe("start-up import", () => {
  const quiet = createLogger("error", () => {});

  test("imports under the start-up lock once; the same document again is skipped, a changed one imported", async () => {
    const dir = tempDir();
    const api = await storeIn(dir);
    let locks = 0;
    const store = storeWith(api, { withStartupLock: (fn) => (locks++, api.withStartupLock(fn)) });
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify(SAMPLE));
    const options = resolveOptions([], { DS2API_CONFIG_PATH: path, DS2API_DB_PATH: join(dir, "unused.sqlite") });
    const first = await loadStartupConfig(store, options, quiet);
    expect(first).toMatchObject({ source: "file", skipped: false, result: { importedKeys: 3, importedAccounts: 3 } });
    expect(locks).toBe(1);
    await api.accounts.delete("alice@example.com"); // an admin edit since: not undone by a restart on the same file
    expect(await loadStartupConfig(store, options, quiet)).toMatchObject({ source: "file", skipped: true });
    expect(await api.accounts.get("alice@example.com")).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...SAMPLE, keys: ["legacy-key"], api_keys: ["sk-four"] }));
    expect(await loadStartupConfig(store, options, quiet)).toMatchObject({ skipped: false, result: { importedKeys: 1, updatedAccounts: 2, importedAccounts: 1 } });
    expect(locks).toBe(3);
    await api.close();
  });
});

describe("mobile numbers", () => {
  test("canonical identifiers and login form", () => {
    expect(canonicalMobile("13800138000")).toBe("+8613800138000");
    expect(canonicalMobile("+86 138-0013-8000")).toBe("+8613800138000");
    expect(canonicalMobile("8613800138000")).toBe("+8613800138000");
    expect(canonicalMobile("+1 415 555 0100")).toBe("+14155550100");
    expect(canonicalMobile("abc")).toBe("");
    expect(loginMobile("+8613800138000")).toBe("13800138000");
    expect(loginMobile("138 0013 8000")).toBe("13800138000");
    expect(loginMobile("+14155550100")).toBe("14155550100");
  });
});
