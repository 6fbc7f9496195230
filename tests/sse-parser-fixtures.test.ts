/**
 * The stream parser against every captured upstream stream. Expected text comes from an independent,
 * simple second reading of the raw frames (tests/sse-fixture-reader.ts), never from parser output.
 */
import { describe, expect, test } from "bun:test";
import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import { ContinueDedupe } from "../src/upstream/deepseek/continue-dedupe.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";
import { loadSample, loadSamples, runParser, simpleRead, sseBody } from "./sse-fixture-reader.ts";

const enc = new TextEncoder();

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function rawFrames(body: string): any[] {
  return body
    .split("\n")
    .filter((l) => l.startsWith("data: {"))
    .map((l) => JSON.parse(l.slice(6)));
}

function lastUsage(body: string): number {
  const all = [...body.matchAll(/"accumulated_token_usage",\s*"v":\s*(\d+)/g)];
  return Number(all[all.length - 1]![1]);
}

const samples = loadSamples();
const singleRound = samples.filter((s) => !s.name.startsWith("continue-"));

describe("captured streams: text matches an independent reading", () => {
  test("corpus is present", () => {
    expect(samples.length).toBeGreaterThanOrEqual(5);
  });

  for (const sample of singleRound) {
    test(sample.name, () => {
      const body = sseBody(sample);
      const rounds = simpleRead(body);
      expect(rounds.length).toBe(1);
      const want = rounds[0]!;
      expect(want.reasoning.length).toBeGreaterThan(0);
      expect(want.answer.length).toBeGreaterThan(0);

      // Whole file as bytes in odd-sized chunks (the longtext upload line stays in: it must be tolerated).
      const run = runParser(chunksOf(sample.bytes, 997));
      expect(run.reasoning).toBe(want.reasoning);
      expect(run.text).toBe(want.answer);
      expect(run.parser.state.envelopeError).toBeUndefined();

      // Same result from the clean SSE body as one string.
      const again = runParser([body]);
      expect(again.reasoning).toBe(want.reasoning);
      expect(again.text).toBe(want.answer);

      // ready event: ids as sent on the `event: ready` line.
      const readyLine = body.split("\n").find((l, i, a) => a[i - 1] === "event: ready")!;
      const ready = JSON.parse(readyLine.slice(6));
      const ev = run.events.find((e) => e.type === "ready");
      expect(ev).toEqual({
        type: "ready",
        requestMessageId: ready.request_message_id,
        responseMessageId: ready.response_message_id,
        modelType: ready.model_type,
      });
      expect(run.parser.state.responseMessageId).toBe(ready.response_message_id);

      // Non-answer fragments (TIP, TEMPLATE_RESPONSE) never leak into text.
      for (const other of Object.values(want.otherText)) expect(run.text.includes(other)).toBe(false);

      // Usage: the last accumulated_token_usage in the raw frames.
      const usage = run.events.filter((e) => e.type === "usage");
      expect(usage[usage.length - 1]).toEqual({ type: "usage", outputTokens: lastUsage(body) });
      expect(run.parser.state.outputTokens).toBe(lastUsage(body));
      expect(run.parser.state.finished).toBe(true);

      // Title, when the capture has one.
      const titleIdx = body.split("\n").indexOf("event: title");
      if (titleIdx >= 0) {
        const title = JSON.parse(body.split("\n")[titleIdx + 1]!.slice(6)).content;
        expect(run.events.filter((e) => e.type === "title")).toEqual([{ type: "title", title }]);
      }
    });
  }
});

describe("sample facts", () => {
  test("normal samples end FINISHED with text closed after the status", () => {
    for (const name of ["markdown-", "longtext-", "guangzhou-"]) {
      const run = runParser([loadSample(name).bytes]);
      expect(run.parser.state.lastStatus).toBe("FINISHED");
      expect(run.parser.state.contentFiltered).toBe(false);
      const idx = run.events.findIndex((e) => e.type === "status" && e.status === "FINISHED" && !e.quasi);
      expect(idx).toBeGreaterThan(0);
      expect(run.events.slice(idx).some((e) => e.type === "text" || e.type === "reasoning")).toBe(false);
    }
  });

  test("markdown sample: whitespace-only tokens are kept one for one", () => {
    const sample = loadSample("markdown-format-example-20260405");
    const body = sseBody(sample);
    const wsRaw = rawFrames(body).filter((f) => typeof f.v === "string" && f.v.length > 0 && f.v.trim() === "").length;
    expect(wsRaw).toBeGreaterThan(10);
    const run = runParser([sample.bytes]);
    const wsEvents = run.events.filter(
      (e) => (e.type === "text" || e.type === "reasoning") && e.text.trim() === "",
    ).length;
    expect(wsEvents).toBe(wsRaw);
    expect(run.text).toContain("\n\n- ");
  });

  test("weather sample: sources, exact citation links, markers kept in text", () => {
    const sample = loadSample("guangzhou-weather");
    const body = sseBody(sample);
    const run = runParser(chunksOf(sample.bytes, 4096), { thinkingEnabled: true, searchEnabled: true });

    // Sources: every http(s) url of results[]/result objects in raw order, deduplicated.
    const rawUrls: string[] = [];
    const visit = (x: any) => {
      if (Array.isArray(x)) return x.forEach(visit);
      if (x && typeof x === "object") {
        if (typeof x.url === "string" && /^https?:\/\//.test(x.url)) rawUrls.push(x.url);
        Object.values(x).forEach(visit);
      }
    };
    rawFrames(body).forEach(visit);
    const want = [...new Set(rawUrls)];
    const got = run.events.flatMap((e) => (e.type === "sources" ? e.sources.map((s) => s.url) : []));
    expect(got).toEqual(want);
    expect(want.length).toBeGreaterThan(10);

    // Citation events: one per marker; meta says how many markers the capture holds.
    const cites = run.events.filter((e): e is Extract<DeepSeekEvent, { type: "citation" }> => e.type === "citation");
    expect(cites.length).toBe(sample.meta.capture.reference_marker_count);
    expect(cites.map((c) => c.index)).toEqual(cites.map((_, i) => i));
    for (const c of cites) expect(run.text).toContain(c.marker);

    // Exact linkage for TOOL_OPEN references: derived from raw frames.
    const openUrl = new Map<number, string>();
    for (const f of rawFrames(body)) {
      for (const it of Array.isArray(f.v) ? f.v : []) {
        for (const frag of Array.isArray(it.v) ? it.v : []) {
          if (frag?.type === "TOOL_OPEN" && frag.result) openUrl.set(frag.id, frag.result.url);
        }
      }
    }
    const markerRefs: Array<{ marker: string; id: number; type: string }> = [];
    for (const f of rawFrames(body)) {
      if (!Array.isArray(f.v)) continue;
      const content = f.v.find((it: any) => it.p === "content");
      const refs = f.v.find((it: any) => it.p === "references");
      if (content && refs) markerRefs.push({ marker: content.v, id: refs.v[0].id, type: refs.v[0].type });
    }
    expect(markerRefs.length).toBe(cites.length);
    let checkedOpen = 0;
    markerRefs.forEach((r, i) => {
      expect(cites[i]!.marker).toBe(r.marker);
      expect(cites[i]!.source).toBeDefined();
      if (r.type === "TOOL_OPEN") {
        expect(cites[i]!.source!.url).toBe(openUrl.get(r.id)!);
        checkedOpen++;
      } else {
        expect(want).toContain(cites[i]!.source!.url);
      }
    });
    expect(checkedOpen).toBeGreaterThan(5);
  });

  test("content-filter sample: content_filter last, no TEMPLATE_RESPONSE or TIP text", () => {
    const sample = loadSample("content-filter-trigger");
    const body = sseBody(sample);
    const simple = simpleRead(body)[0]!;
    const template = simple.otherText.TEMPLATE_RESPONSE!;
    expect(template.length).toBeGreaterThan(0);
    expect(simple.statuses).toContain("CONTENT_FILTER");

    const run = runParser(chunksOf(sample.bytes, 1500));
    const events = run.events;
    expect(events[events.length - 1]).toEqual({ type: "content_filter" });
    expect(events.filter((e) => e.type === "content_filter").length).toBe(1);
    expect(run.text.includes(template)).toBe(false);
    expect(run.text.includes(simple.otherText.TIP!)).toBe(false);
    expect(run.parser.state.contentFiltered).toBe(true);
    expect(run.parser.state.finished).toBe(true);
    expect(run.parser.state.lastStatus).toBe("CONTENT_FILTER");
    // quasi FINISHED came first (raw order), then the filter.
    const q = events.findIndex((e) => e.type === "status" && e.quasi === true && e.status === "FINISHED");
    const cf = events.findIndex((e) => e.type === "content_filter");
    expect(q).toBeGreaterThan(0);
    expect(cf).toBeGreaterThan(q);
  });

  test("longtext sample: the leading upload JSON line is tolerated (not an envelope error)", () => {
    const sample = loadSample("longtext-");
    expect(sample.text.startsWith('{"code":0')).toBe(true);
    const run = runParser([sample.bytes]);
    expect(run.parser.state.envelopeError).toBeUndefined();
    expect(run.parser.state.sawAnyFrame).toBe(true);
    expect(run.events.some((e) => e.type === "error")).toBe(false);
  });
});

describe("continue sample: INCOMPLETE, then a snapshot round", () => {
  const sample = loadSample("continue-thinking-snapshot-replay");
  const rounds = sample.meta.capture.rounds as Array<{ label: string; response_bytes: number }>;

  test("meta: a completion round then a continue round, split at the recorded byte count", () => {
    expect(rounds.map((r) => r.label)).toEqual(["deepseek_completion", "deepseek_continue"]);
    expect(rounds[0]!.response_bytes + rounds[1]!.response_bytes).toBe(sample.bytes.length);
    const second = new TextDecoder().decode(sample.bytes.subarray(rounds[0]!.response_bytes));
    expect(second.startsWith("event: ready")).toBe(true);
  });

  test("round 1 ends INCOMPLETE (continue condition holds); round 2 dedupes the snapshot", () => {
    const cut = rounds[0]!.response_bytes;
    const r1Bytes = sample.bytes.subarray(0, cut);
    const r2Bytes = sample.bytes.subarray(cut);
    const simple = simpleRead(sample.text);
    expect(simple.length).toBe(2);
    const [s1, s2] = simple as [(typeof simple)[0], (typeof simple)[0]];
    // The snapshot holds all of round 1's reasoning plus a few new characters.
    expect(s1.answer).toBe("");
    expect(s2.envelopeThink.startsWith(s1.reasoning)).toBe(true);
    const extra = s2.envelopeThink.length - s1.reasoning.length;
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThan(16);
    expect(s1.statuses).toEqual(["INCOMPLETE", "INCOMPLETE"]);

    const parser = new DeepSeekStreamParser({ thinkingEnabled: true });
    const dedupe = new ContinueDedupe();
    let reasoning = "";
    let text = "";
    let naive = "";
    const feed = (events: DeepSeekEvent[]) => {
      for (const e of events) {
        if (e.type === "reasoning") {
          naive += e.text;
          reasoning += dedupe.accept("reasoning", e.text, e.snapshot === true);
        } else if (e.type === "text") text += dedupe.accept("text", e.text, e.snapshot === true);
      }
    };
    for (const c of chunksOf(r1Bytes, 8192)) feed(parser.push(c));
    feed(parser.end());
    const st = parser.state;
    expect(st.lastStatus).toBe("INCOMPLETE");
    expect(st.finished).toBe(false);
    expect(st.responseMessageId).toBeGreaterThan(0);
    const usage1 = st.outputTokens;
    expect(usage1).toBe(lastUsage(new TextDecoder().decode(r1Bytes)));
    expect(reasoning).toBe(s1.reasoning);

    parser.beginContinueRound();
    dedupe.beginRound();
    expect(parser.state.lastStatus).toBeUndefined();
    const r2Events: DeepSeekEvent[] = [];
    for (const c of chunksOf(r2Bytes, 8192)) r2Events.push(...parser.push(c));
    r2Events.push(...parser.end());
    feed(r2Events);
    expect(r2Events.some((e) => e.type === "reasoning" && e.snapshot === true)).toBe(true);

    expect(reasoning).toBe(s2.reasoning); // = round 1 + the new tail of the snapshot + appends
    expect(text).toBe(s2.answer);
    expect(naive.length).toBeGreaterThan(reasoning.length + s1.reasoning.length - 1); // without dedupe: duplicated
    expect(parser.state.lastStatus).toBe("FINISHED");
    expect(parser.state.finished).toBe(true);
    expect(parser.state.outputTokens).toBe(lastUsage(sample.text));
    // Usage carried over: round 2 never reports less than round 1 ended with.
    for (const e of r2Events) if (e.type === "usage") expect(e.outputTokens).toBeGreaterThanOrEqual(usage1!);
  });
});
