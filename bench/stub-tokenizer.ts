/**
 * Preload for bench/stall.ts --stub-tokenizer: replaces the DeepSeek tokenizer with the character estimate, to
 * show what stalls remain besides tokenizing.
 */
import { plugin } from "bun";

plugin({
  name: "stub-tokenizer",
  setup(build) {
    build.onLoad({ filter: /src\/core\/usage\/tokenizer\.ts$/ }, () => ({
      loader: "ts",
      contents: `import { estimateTokens } from "./estimate.ts";
export const warmTokenizer = () => true;
export const countTokens = (text: string) => estimateTokens(text);`,
    }));
  },
});
