/**
 * The provider seam (issue 12 step 1): the registry picks the provider of the resolved model, the turn
 * executor talks only to the neutral contract, and the import graph keeps core free of upstream/api.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { ModelSpec } from "../src/core/models/index.ts";
import { NATIVE_MODELS, resolveModel } from "./support/deepseek-catalog.ts";
import { executeTurn } from "../src/core/turn/execute-turn.ts";
import { defaultToolKit } from "../src/core/turn/toolkit.ts";
import type { TurnEvent, TurnRequest } from "../src/core/turn/turn.ts";
import { TurnError } from "../src/core/turn/turn-error.ts";
import type { AccountPoolStatus, UpstreamErrorListener, UpstreamEvent, UpstreamOutcome, UpstreamProvider, UpstreamTurn } from "../src/core/upstream/provider.ts";
import { ProviderRegistry } from "../src/core/upstream/registry.ts";
import { deepSeekModels } from "../src/upstream/deepseek/models.ts";

function pool(over: Partial<AccountPoolStatus> = {}): AccountPoolStatus {
  return {
    total: 2, enabled: 2, usableNow: 2, coolingDown: 0, failing: 0, disabled: 0, inUse: 0, available: 2, waiting: 0,
    maxQueue: 10, maxInflightPerAccount: 2, globalMaxInflight: 0, recommendedConcurrency: 4,
    accounts: [{ identifier: "a", inflight: 0, status: "ok" }], ...over,
  };
}

/** A scripted provider: records the turns it ran, yields the given events. */
class FakeProvider implements UpstreamProvider {
  readonly input = "prompt";
  readonly toolCalls = "text";
  readonly displayName: string;
  readonly turns: UpstreamTurn[] = [];
  readonly listeners: UpstreamErrorListener[] = [];
  reloads = 0;
  closed = false;
  accounts?: UpstreamProvider["accounts"];
  constructor(
    readonly id: string,
    readonly acceptsTranscript: boolean,
    private readonly events: UpstreamEvent[] = [{ type: "progress", what: "ready" }, { type: "text", text: `hello from ${id}` }],
    status?: AccountPoolStatus,
  ) {
    this.displayName = id;
    if (status) {
      this.accounts = {
        status: () => status,
        settings: () => ({ maxInflightPerAccount: 2, maxQueue: 10, globalMaxInflight: 0, tokenRefreshMs: 1, minIntervalMs: 0, dailyCap: 0, cooldownMs: 0 }),
        inflightOf: () => 0,
        markHealthy: () => {},
        markFailing: () => {},
        test: async () => ({ ok: true, sessionCount: 0, text: "" }),
      };
    }
  }
  models(): ModelSpec[] {
    return [{ id: `${this.id}-chat`, provider: this.id, modelType: "default", thinkingDefault: false, thinkingForcedOff: true, search: false }];
  }
  async *run(turn: UpstreamTurn): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    this.turns.push(turn);
    for (const ev of this.events) yield ev;
    return { contentFiltered: false, truncated: false, empty: false, reasoningOnly: false };
  }
  onUpstreamError(listener: UpstreamErrorListener): void {
    this.listeners.push(listener);
  }
  status() {
    return { id: this.id, models: 1, accounts: this.accounts?.status() };
  }
  reload(): void {
    this.reloads++;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function turnFor(model: ModelSpec, text: string): TurnRequest {
  return {
    surface: "openai", model: { ...model, requested: model.id }, messages: [{ role: "user", text }], thinking: false, exposeReasoning: false,
    injectThinking: false, tools: [], toolChoice: { mode: "auto" }, stream: false, passthrough: {}, callerId: "test",
  };
}

async function collect(gen: AsyncGenerator<TurnEvent>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const ev of gen) out.push(ev);
  return out;
}

describe("ProviderRegistry", () => {
  test("resolves a model to the provider named by its spec; an unregistered provider is a 503", () => {
    const a = new FakeProvider("alpha", true);
    const b = new FakeProvider("beta", false);
    const reg = new ProviderRegistry().register(a).register(b);
    expect(reg.forModel({ id: "beta-chat", provider: "beta" })).toBe(b);
    expect(reg.forModel({ id: "alpha-chat", provider: "alpha" })).toBe(a);
    let err: unknown;
    try {
      reg.forModel({ id: "x", provider: "gamma" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TurnError);
    expect((err as TurnError).status).toBe(503);
    expect((err as TurnError).code).toBe("provider_unavailable");
    expect(() => reg.register(new FakeProvider("alpha", true))).toThrow(/registered twice/);
  });

  test("lists every provider's models, fans reload/close/error listeners out, and sums account pools", async () => {
    const a = new FakeProvider("alpha", true, undefined, pool({ total: 2, inUse: 1, globalMaxInflight: 4 }));
    const b = new FakeProvider("beta", false, undefined, pool({ total: 3, inUse: 2, maxInflightPerAccount: 5, globalMaxInflight: 0, accounts: [{ identifier: "b", inflight: 2, status: "ok" }] }));
    const reg = new ProviderRegistry().register(a);
    expect(reg.accountStatus()).toEqual(a.accounts!.status()); // one pool: as is
    reg.register(b);
    expect(reg.models().map((m) => m.id)).toEqual(["alpha-chat", "beta-chat"]);
    const merged = reg.accountStatus();
    expect(merged.total).toBe(5);
    expect(merged.inUse).toBe(3);
    expect(merged.maxInflightPerAccount).toBe(5);
    expect(merged.globalMaxInflight).toBe(0); // one pool without a global limit: no overall limit
    expect(merged.accounts.map((x) => x.identifier)).toEqual(["a", "b"]);
    const seen: string[] = [];
    reg.onUpstreamError((kind) => seen.push(kind));
    for (const p of [a, b]) p.listeners.forEach((l) => l(`${p.id}-err`, undefined, "m"));
    expect(seen).toEqual(["alpha-err", "beta-err"]);
    reg.reload();
    await reg.close();
    expect([a.reloads, b.reloads, a.closed, b.closed]).toEqual([1, 1, true, true]);
    expect(reg.status().map((s) => s.id)).toEqual(["alpha", "beta"]);
  });
});

describe("executeTurn through the registry", () => {
  const historyFile = { enabled: true, promptChars: 10 };
  const long = "a long question ".repeat(10);

  test("runs on the model's provider and hands it the resolved model", async () => {
    const a = new FakeProvider("alpha", true);
    const b = new FakeProvider("beta", true);
    const reg = new ProviderRegistry().register(a).register(b);
    const events = await collect(executeTurn(turnFor(b.models()[0]!, "hi"), { providers: reg, toolkit: defaultToolKit }, new AbortController().signal));
    expect(a.turns).toHaveLength(0);
    expect(b.turns).toHaveLength(1);
    expect(b.turns[0]!.model.id).toBe("beta-chat");
    expect(events.at(-1)).toMatchObject({ type: "done", finishReason: "stop", text: "hello from beta" });
  });

  test("the attached transcript goes only to providers that accept one", async () => {
    const takes = new FakeProvider("alpha", true);
    const refuses = new FakeProvider("beta", false);
    const reg = new ProviderRegistry().register(takes).register(refuses);
    const deps = { providers: reg, toolkit: defaultToolKit, historyFile };
    await collect(executeTurn(turnFor(takes.models()[0]!, long), deps, new AbortController().signal));
    await collect(executeTurn(turnFor(refuses.models()[0]!, long), deps, new AbortController().signal));
    expect(takes.turns[0]!.transcript).toContain(long.trim());
    expect(takes.turns[0]!.prompt).not.toContain(long.trim());
    expect(refuses.turns[0]!.transcript).toBeUndefined();
    expect(refuses.turns[0]!.prompt).toContain(long.trim());
  });

  test("an in-stream error event from any provider is a 502 upstream_error", async () => {
    const p = new FakeProvider("alpha", true, [{ type: "error", message: "boom" }]);
    const reg = new ProviderRegistry().register(p);
    let err: unknown;
    try {
      await collect(executeTurn(turnFor(p.models()[0]!, "hi"), { providers: reg, toolkit: defaultToolKit }, new AbortController().signal));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TurnError);
    expect((err as TurnError).status).toBe(502);
    expect((err as TurnError).code).toBe("upstream_error");
  });
});

describe("models carry their provider", () => {
  test("every native model is served by deepseek, and the DeepSeek provider serves exactly them", () => {
    expect(NATIVE_MODELS.every((m) => m.provider === "deepseek")).toBe(true);
    expect(deepSeekModels().map((m) => m.id)).toEqual(NATIVE_MODELS.map((m) => m.id));
    expect(resolveModel("gpt-4o")?.provider).toBe("deepseek");
  });
});

// ---- import graph -------------------------------------------------------------------------------

const SRC = resolve(import.meta.dir, "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative imports / re-exports of a file, resolved to absolute paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) out.push(resolve(dirname(file), m[1]!));
  return out;
}

const graph = new Map(sourceFiles(SRC).map((f) => [f, importsOf(f)]));
const rel = (f: string) => relative(SRC, f);

describe("import graph", () => {
  test("core imports nothing from upstream or api", () => {
    const bad = [...graph].flatMap(([f, deps]) => (rel(f).startsWith("core/") ? deps.filter((d) => /^(upstream|api)\//.test(rel(d))).map((d) => `${rel(f)} → ${rel(d)}`) : []));
    expect(bad).toEqual([]);
  });

  test("api does not import a concrete provider folder; a provider imports no api and no other provider", () => {
    const providerOf = (f: string) => /^upstream\/([^/]+)\//.exec(rel(f))?.[1];
    const shared = new Set(["pow", "proxy", "transport"]); // shared upstream plumbing, not providers
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = rel(f);
      for (const d of deps) {
        const to = rel(d);
        const target = providerOf(d);
        if (from.startsWith("api/") && target && !shared.has(target)) bad.push(`${from} → ${to}`);
        const source = providerOf(f);
        if (source && !shared.has(source)) {
          if (to.startsWith("api/")) bad.push(`${from} → ${to}`);
          if (target && target !== source && !shared.has(target)) bad.push(`${from} → ${to}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  test("no import cycles through the provider seam (core/upstream, upstream/deepseek)", () => {
    const seam = [...graph.keys()].filter((f) => /^(core\/upstream|upstream\/deepseek)\//.test(rel(f)));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(" → "));
        return;
      }
      state.set(f, "open");
      for (const d of graph.get(f) ?? []) if (graph.has(d)) visit(d, [...path, f]);
      state.set(f, "done");
    };
    for (const f of seam) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
