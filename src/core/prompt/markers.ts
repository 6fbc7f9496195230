/**
 * Chat-template markers (upstream-protocol §6.1) in the three styles the `prompt.markers` setting offers:
 * - `native`: DeepSeek's own special tokens. They use FULLWIDTH VERTICAL LINE U+FF5C and LOWER ONE EIGHTH
 *   BLOCK U+2581, written as escapes so no editor can swap them for ASCII;
 * - `ascii`: `<|User|>`-style lookalikes in plain ASCII (`|` and `_`);
 * - `plain`: role-labelled text blocks ("User:" / "Assistant:") separated by blank lines, no tags at all.
 */
export const BEGIN_OF_SENTENCE = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
export const SYSTEM_MARKER = "<\uFF5CSystem\uFF5C>";
export const USER_MARKER = "<\uFF5CUser\uFF5C>";
export const ASSISTANT_MARKER = "<\uFF5CAssistant\uFF5C>";
export const TOOL_MARKER = "<\uFF5CTool\uFF5C>";
export const END_OF_INSTRUCTIONS = "<\uFF5Cend\u2581of\u2581instructions\uFF5C>";
export const END_OF_SENTENCE = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
export const END_OF_TOOL_RESULTS = "<\uFF5Cend\u2581of\u2581toolresults\uFF5C>";

/** Output-integrity guard (upstream-protocol §6.2 step 5), placed as the first system message. */
export const OUTPUT_INTEGRITY_GUARD =
  "Output integrity guard: If upstream context, tool output, or parsed text contains garbled, corrupted, partially parsed, " +
  "repeated, or otherwise malformed fragments, do not imitate or echo them; output only the correct content for the user.";

export const PROMPT_MARKER_STYLES = ["native", "ascii", "plain"] as const;
export type PromptMarkerStyle = (typeof PROMPT_MARKER_STYLES)[number];
export const DEFAULT_PROMPT_MARKERS: PromptMarkerStyle = "native";

export function isPromptMarkerStyle(v: unknown): v is PromptMarkerStyle {
  return typeof v === "string" && (PROMPT_MARKER_STYLES as readonly string[]).includes(v);
}

/** What opens and closes each role's block, and what opens the reply. */
export interface MarkerSet {
  begin: string;
  system: readonly [open: string, close: string];
  user: readonly [open: string, close: string];
  assistant: readonly [open: string, close: string];
  tool: readonly [open: string, close: string];
  /** Appended when the last block is not an assistant: it opens the model's reply. */
  reply: string;
}

const NATIVE: MarkerSet = {
  begin: BEGIN_OF_SENTENCE,
  system: [SYSTEM_MARKER, END_OF_INSTRUCTIONS],
  user: [USER_MARKER, ""],
  assistant: [ASSISTANT_MARKER, END_OF_SENTENCE],
  tool: [TOOL_MARKER, END_OF_TOOL_RESULTS],
  reply: ASSISTANT_MARKER,
};

const ASCII: MarkerSet = {
  begin: "<|begin_of_sentence|>",
  system: ["<|System|>", "<|end_of_instructions|>"],
  user: ["<|User|>", ""],
  assistant: ["<|Assistant|>", "<|end_of_sentence|>"],
  tool: ["<|Tool|>", "<|end_of_toolresults|>"],
  reply: "<|Assistant|>",
};

/** Blocks end with a blank line, so every label starts a line of its own. */
const PLAIN: MarkerSet = {
  begin: "",
  system: ["System:\n", "\n\n"],
  user: ["User:\n", "\n\n"],
  assistant: ["Assistant:\n", "\n\n"],
  tool: ["Tool result:\n", "\n\n"],
  reply: "Assistant:\n",
};

export function markerSet(style: PromptMarkerStyle = DEFAULT_PROMPT_MARKERS): MarkerSet {
  return style === "ascii" ? ASCII : style === "plain" ? PLAIN : NATIVE;
}

/** Which marker style a built prompt uses (undefined when it has none of them). */
export function detectMarkerStyle(prompt: string): PromptMarkerStyle | undefined {
  if (prompt.includes(NATIVE.reply) || prompt.includes(NATIVE.user[0])) return "native";
  if (prompt.includes(ASCII.reply) || prompt.includes(ASCII.user[0])) return "ascii";
  if (prompt.startsWith(PLAIN.system[0]) || prompt.startsWith(PLAIN.user[0]) || prompt.includes(`\n\n${PLAIN.user[0]}`)) return "plain";
  return undefined;
}

/**
 * The text of the last user block of a built prompt, in whichever style it was written (the whole prompt,
 * trimmed, when it has no user marker). For the simulator and tests; the gateway itself never parses prompts.
 */
export function lastUserBlock(prompt: string): string {
  const style = detectMarkerStyle(prompt);
  if (!style) return prompt.trim();
  const set = markerSet(style);
  const open = set.user[0];
  let at = prompt.lastIndexOf(open);
  // A plain "User:" counts only at the start of the prompt or of a block (after a blank line).
  if (style === "plain") while (at > 0 && !prompt.startsWith("\n\n", at - 2)) at = prompt.lastIndexOf(open, at - 1);
  if (at < 0) return prompt.trim();
  const rest = prompt.slice(at + open.length);
  // What may follow a user block: another role's opening (in plain text, at the start of a block) or a closing tag.
  const next = style === "plain" ? [set.system[0], set.user[0], set.assistant[0], set.tool[0]].map((l) => `\n\n${l}`) : [set.system[0], set.user[0], set.assistant[0], set.tool[0], set.system[1], set.assistant[1], set.tool[1]];
  let end = rest.length;
  for (const label of next) {
    const i = rest.indexOf(label);
    if (i >= 0 && i < end) end = i;
  }
  return rest.slice(0, end).trim();
}
