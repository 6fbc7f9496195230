/** Shared helpers for the toolcalls tests: replaying a text through the sieve at many chunkings. */
import { ToolCallSieve } from "../src/core/toolcalls/sieve.ts";
import type { SieveOutput, ToolSpec } from "../src/core/toolcalls/types.ts";

export function runSieve(chunks: readonly string[], tools: readonly ToolSpec[]): SieveOutput[] {
  const sieve = new ToolCallSieve(tools);
  const out: SieveOutput[] = [];
  for (const c of chunks) out.push(...sieve.push(c));
  out.push(...sieve.end());
  return mergeText(out);
}

/** Adjacent text outputs joined, empty texts dropped. */
export function mergeText(outs: readonly SieveOutput[]): SieveOutput[] {
  const merged: SieveOutput[] = [];
  for (const o of outs) {
    if (o.type === "text") {
      if (!o.text) continue;
      const last = merged[merged.length - 1];
      if (last && last.type === "text") {
        merged[merged.length - 1] = { type: "text", text: last.text + o.text };
        continue;
      }
    }
    merged.push(o);
  }
  return merged;
}

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Chunkings of `text`: every 2-way split, char-by-char, and some random k-way splits. */
export function chunkings(text: string, randomCount = 12): string[][] {
  const chars = Array.from(text);
  const out: string[][] = [[text]];
  for (let i = 1; i < chars.length; i++) out.push([chars.slice(0, i).join(""), chars.slice(i).join("")]);
  out.push(chars);
  const r = rng(text.length * 7919 + 17);
  for (let k = 0; k < randomCount; k++) {
    const parts: string[] = [];
    let i = 0;
    while (i < chars.length) {
      const len = 1 + Math.floor(r() * 9);
      parts.push(chars.slice(i, i + len).join(""));
      i += len;
    }
    out.push(parts);
  }
  return out;
}

/** Text reaching the client (text and incomplete_call outputs), concatenated. */
export function visibleText(outs: readonly SieveOutput[]): string {
  return outs.map((o) => (o.type === "tool_calls" ? "" : o.text)).join("");
}

export function callsOf(outs: readonly SieveOutput[]) {
  return outs.flatMap((o) => (o.type === "tool_calls" ? o.calls : []));
}
