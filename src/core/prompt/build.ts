/**
 * Canonical messages → the single DeepSeek `prompt` string (upstream-protocol §6.2).
 * Tool prompt text and DSML tool-call rendering come from src/core/toolcalls via options.
 */
import type { CanonicalMessage, CanonicalToolCall } from "./message.ts";
import { markerSet, OUTPUT_INTEGRITY_GUARD, type PromptMarkerStyle } from "./markers.ts";

export interface ToolResultView {
  name?: string;
  callId?: string;
  content: string;
}

export interface BuildPromptOptions {
  /** Already-rendered tool declaration block; appended to the first system message. */
  toolPrompt?: string;
  /** Renders an assistant's earlier calls (DSML history). Without it, calls are left out. */
  renderToolCalls?: (calls: CanonicalToolCall[]) => string;
  /** Renders a tool result for the live prompt; default: the content alone. */
  renderToolResult?: (r: ToolResultView) => string;
  /** Put the output-integrity guard first (default true). */
  guard?: boolean;
  /** Role markers: DeepSeek's native tokens (default), ASCII lookalikes, or plain role labels (`prompt.markers`). */
  markers?: PromptMarkerStyle;
}

/** `[reasoning_content]\n…\n[/reasoning_content]`, or "" when there is no reasoning. */
export function reasoningBlock(reasoning: string | undefined): string {
  if (!reasoning || !reasoning.trim()) return "";
  return `[reasoning_content]\n${reasoning}\n[/reasoning_content]`;
}

/** Assistant text: reasoning block, trimmed content, tool-call history, joined by blank lines. */
export function assistantText(m: CanonicalMessage, renderToolCalls?: (calls: CanonicalToolCall[]) => string): string {
  const pieces: string[] = [];
  const r = reasoningBlock(m.reasoning);
  if (r) pieces.push(r);
  const t = m.text.trim();
  if (t) pieces.push(t);
  if (renderToolCalls && m.toolCalls && m.toolCalls.length) {
    const calls = renderToolCalls(m.toolCalls).trim();
    if (calls) pieces.push(calls);
  }
  return pieces.join("\n\n");
}

/** Tool result content; empty content becomes the literal `null` so the turn is not lost. */
export function toolResultContent(text: string): string {
  return text.trim() === "" ? "null" : text;
}

/** Tool prompt merged into the first system message, or a new leading system message. */
export function withToolPrompt(messages: CanonicalMessage[], toolPrompt: string | undefined): CanonicalMessage[] {
  const tp = toolPrompt?.trim();
  if (!tp) return messages;
  const i = messages.findIndex((m) => m.role === "system");
  if (i < 0) return [{ role: "system", text: tp }, ...messages];
  const out = messages.slice();
  const existing = out[i]!.text.trim();
  out[i] = { ...out[i]!, text: existing ? `${existing}\n\n${tp}` : tp };
  return out;
}

interface Block {
  role: string;
  text: string;
}

/**
 * Markdown images `![alt](url)` become links `[alt](url)` (alt and url on one line, without `]` / `)`).
 * A linear scan: the equivalent regex `!\[([^\]\n]*)\]\(([^)\n]*)\)` rescans a line for every `![` and
 * takes seconds on a long line full of them. A failed candidate fails for every `![` up to where its scan
 * stopped, so the search resumes there.
 */
export function rewriteMarkdownImages(s: string): string {
  let start = s.indexOf("![");
  if (start < 0) return s;
  const kept: string[] = [];
  let copied = 0;
  while (start >= 0) {
    const closeAlt = scanLine(s, start + 2, "]");
    if (s[closeAlt] !== "]") {
      start = s.indexOf("![", closeAlt);
      continue;
    }
    if (s[closeAlt + 1] !== "(") {
      start = s.indexOf("![", closeAlt + 1);
      continue;
    }
    const closeUrl = scanLine(s, closeAlt + 2, ")");
    if (s[closeUrl] !== ")") {
      start = s.indexOf("![", closeUrl);
      continue;
    }
    kept.push(s.slice(copied, start));
    copied = start + 1; // drop the "!"
    start = s.indexOf("![", closeUrl + 1);
  }
  if (copied === 0) return s;
  kept.push(s.slice(copied));
  return kept.join("");
}

/** Index of the first `stop` or newline at or after `from` (s.length when neither comes). */
function scanLine(s: string, from: number, stop: string): number {
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === stop || c === "\n") return i;
    i++;
  }
  return i;
}

/** Assemble the prompt string from canonical messages. */
export function buildPrompt(messages: CanonicalMessage[], opts: BuildPromptOptions = {}): string {
  let list = withToolPrompt(messages, opts.toolPrompt);
  if (opts.guard !== false && !(list.length > 0 && list[0]!.text.includes(OUTPUT_INTEGRITY_GUARD))) {
    list = [{ role: "system", text: OUTPUT_INTEGRITY_GUARD }, ...list];
  }

  // Per-message text, then merge adjacent blocks of the same role.
  const blocks: Block[] = [];
  for (const m of list) {
    let text: string;
    if (m.role === "assistant") {
      text = assistantText(m, opts.renderToolCalls);
      if (!text) continue;
    } else if (m.role === "tool") {
      const content = toolResultContent(m.text);
      text = opts.renderToolResult
        ? opts.renderToolResult({ name: m.toolName, callId: m.toolCallId, content })
        : content;
    } else {
      text = m.text;
    }
    const last = blocks[blocks.length - 1];
    if (last && last.role === m.role) last.text += "\n\n" + text;
    else blocks.push({ role: m.role, text });
  }

  const m = markerSet(opts.markers);
  let out = m.begin;
  let lastRole = "";
  for (const b of blocks) {
    switch (b.role) {
      case "system": {
        const t = b.text.trim();
        if (!t) continue;
        out += m.system[0] + t + m.system[1];
        break;
      }
      case "user":
        out += m.user[0] + b.text + m.user[1];
        break;
      case "assistant":
        out += m.assistant[0] + b.text + m.assistant[1];
        break;
      case "tool":
        if (!b.text.trim()) continue;
        out += m.tool[0] + b.text + m.tool[1];
        break;
      default:
        if (!b.text) continue;
        out += b.text;
    }
    lastRole = b.role;
  }
  if (lastRole !== "assistant") out += m.reply;
  return rewriteMarkdownImages(out);
}
