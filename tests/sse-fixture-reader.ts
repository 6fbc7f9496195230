/**
 * Test support for the SSE parser tests: loads the captured upstream streams and gives a deliberately
 * simple, independent second reading of them (no sticky-op logic, no negative indices other than -1,
 * no text repairs) to derive the expected reasoning / answer text from the raw frames.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FIXTURES_URL } from "./support/fixtures.ts";

export const UPSTREAM_FIXTURES = fileURLToPath(new URL("upstream/", FIXTURES_URL));

export interface CapturedSample {
  name: string;
  bytes: Uint8Array;
  text: string;
  meta: any;
}

/** Every sample folder under `root` (default: the vendored fixtures; a raw-sample root works the same). */
export function loadSamples(root: string = UPSTREAM_FIXTURES): CapturedSample[] {
  const dir = root.endsWith("/") ? root : `${root}/`;
  const out: CapturedSample[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = `${dir}${name}/upstream.stream.sse`;
    if (!existsSync(file)) continue;
    const bytes = new Uint8Array(readFileSync(file));
    out.push({
      name,
      bytes,
      text: new TextDecoder().decode(bytes),
      meta: JSON.parse(readFileSync(`${dir}${name}/meta.json`, "utf8")),
    });
  }
  return out;
}

export function loadSample(prefix: string): CapturedSample {
  const s = loadSamples().find((x) => x.name.startsWith(prefix));
  if (!s) throw new Error(`no sample ${prefix}`);
  return s;
}

/** §9: in longtext captures line 1 is the upload_file JSON response, not SSE. */
export function sseBody(sample: CapturedSample): string {
  return sample.name.startsWith("longtext-") ? sample.text.slice(sample.text.indexOf("\n") + 1) : sample.text;
}

export interface SimpleRound {
  /** Text of THINK fragments, in order (including envelope content). */
  reasoning: string;
  /** Text of RESPONSE fragments. */
  answer: string;
  /** Content of the first THINK fragment of the round's envelope (the continue snapshot). */
  envelopeThink: string;
  /** Fragment types seen, in order. */
  types: string[];
  /** Text of non-THINK/RESPONSE fragments per type. */
  otherText: Record<string, string>;
  statuses: string[];
  /** Data frames of event type message. */
  messageFrames: number;
}

/** A second, simple reading: every `event: ready` starts a new round. */
export function simpleRead(body: string): SimpleRound[] {
  const rounds: SimpleRound[] = [];
  let cur: SimpleRound | undefined;
  let event = "message";
  let lastP = "";
  let types: string[] = [];
  let stopped = false;
  const add = (type: string | undefined, s: unknown) => {
    if (!cur || stopped || typeof s !== "string" || type === undefined) return;
    if (type === "THINK") cur.reasoning += s;
    else if (type === "RESPONSE") cur.answer += s;
    else cur.otherText[type] = (cur.otherText[type] ?? "") + s;
  };
  const addFragments = (list: any[]) => {
    for (const f of list) {
      types.push(f.type);
      cur!.types.push(f.type);
      add(f.type, f.content);
    }
  };
  for (const line of body.split("\n")) {
    if (line.startsWith("event: ")) {
      event = line.slice(7);
      if (event === "ready") {
        cur = { reasoning: "", answer: "", envelopeThink: "", types: [], otherText: {}, statuses: [], messageFrames: 0 };
        rounds.push(cur);
        lastP = "";
        types = [];
        stopped = false;
      }
      continue;
    }
    if (line === "") {
      event = "message";
      continue;
    }
    if (!line.startsWith("data: ") || event !== "message" || !cur) continue;
    const obj = JSON.parse(line.slice(6));
    cur.messageFrames++;
    if (obj.v && typeof obj.v === "object" && obj.v.response) {
      types = [];
      addFragments(obj.v.response.fragments);
      const think = obj.v.response.fragments.find((f: any) => f.type === "THINK");
      cur.envelopeThink = think?.content ?? "";
      continue;
    }
    const p = obj.p ?? lastP;
    lastP = p;
    if (p === "response/fragments" && Array.isArray(obj.v)) addFragments(obj.v);
    else if (p === "response/fragments/-1/content" && typeof obj.v === "string") add(types[types.length - 1], obj.v);
    else if (p === "response/fragments/-1" && Array.isArray(obj.v)) {
      for (const it of obj.v) if (it.p === "content") add(types[types.length - 1], it.v);
    } else if (p === "response" && Array.isArray(obj.v)) {
      for (const it of obj.v) {
        if (it.p === "status" || it.p === "quasi_status") cur.statuses.push(it.v);
        if (it.p === "fragments" && Array.isArray(it.v)) addFragments(it.v);
      }
    } else if (p === "response/status") {
      cur.statuses.push(obj.v);
      if (obj.v === "FINISHED") stopped = true;
    }
  }
  return rounds;
}

import { DeepSeekStreamParser } from "../src/upstream/deepseek/sse/parser.ts";
import type { DeepSeekEvent } from "../src/upstream/deepseek/events.ts";

export interface ParsedRun {
  parser: DeepSeekStreamParser;
  events: DeepSeekEvent[];
  reasoning: string;
  text: string;
}

export function collect(events: DeepSeekEvent[]): { reasoning: string; text: string } {
  let reasoning = "";
  let text = "";
  for (const e of events) {
    if (e.type === "reasoning") reasoning += e.text;
    else if (e.type === "text") text += e.text;
  }
  return { reasoning, text };
}

/** Feeds the chunks into a fresh parser (or the given one) and ends it. */
export function runParser(
  chunks: Iterable<Uint8Array | string>,
  opts: { thinkingEnabled: boolean; searchEnabled?: boolean } = { thinkingEnabled: true },
  parser = new DeepSeekStreamParser(opts),
): ParsedRun {
  const events: DeepSeekEvent[] = [];
  for (const c of chunks) for (const e of parser.push(c)) events.push(e);
  for (const e of parser.end()) events.push(e);
  return { parser, events, ...collect(events) };
}

/** Merges adjacent reasoning/text events of the same type (and snapshot flag) for chunking comparisons. */
export function normalizeEvents(events: DeepSeekEvent[]): DeepSeekEvent[] {
  const out: DeepSeekEvent[] = [];
  for (const e of events) {
    const prev = out[out.length - 1];
    if (
      prev &&
      (e.type === "reasoning" || e.type === "text") &&
      prev.type === e.type &&
      (prev as { snapshot?: boolean }).snapshot === (e as { snapshot?: boolean }).snapshot
    ) {
      out[out.length - 1] = { ...prev, text: (prev as { text: string }).text + e.text } as DeepSeekEvent;
    } else {
      out.push(e);
    }
  }
  return out;
}
