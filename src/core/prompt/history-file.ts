/**
 * "Current input file" (upstream-protocol §6.6): the whole conversation as DS2API_HISTORY.txt and the
 * one-line user message that replaces it in the live prompt. Pure text; uploading is done elsewhere.
 */
import type { CanonicalMessage, CanonicalToolCall } from "./message.ts";
import { assistantText, toolResultContent } from "./build.ts";

export const HISTORY_FILE_NAME = "DS2API_HISTORY.txt";
export const HISTORY_FILE_CONTENT_TYPE = "text/plain; charset=utf-8";

export const HISTORY_CONTINUE_USER_LINE =
  "Continue from the latest state in the attached DS2API_HISTORY.txt context. " +
  "Treat it as the current working state and answer the latest user request directly.";

const HEADER = `# ${HISTORY_FILE_NAME}\nPrior conversation history and tool progress.`;

export interface HistoryTranscriptOptions {
  /** DSML rendering of assistant tool calls (same renderer as the live prompt). */
  renderToolCalls?: (calls: CanonicalToolCall[]) => string;
}

/** Whether the history file applies: the latest user message has text of at least `minChars` characters. */
export function shouldUseHistoryFile(messages: CanonicalMessage[], minChars = 0): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== "user") continue;
    const t = m.text.trim();
    return t.length > 0 && t.length >= minChars;
  }
  return false;
}

function toolEntry(m: CanonicalMessage): string {
  const attrs: string[] = [];
  if (m.toolName) attrs.push(`name=${m.toolName}`);
  if (m.toolCallId) attrs.push(`tool_call_id=${m.toolCallId}`);
  const content = toolResultContent(m.text).trim();
  return attrs.length ? `[${attrs.join(" ")}]\n${content}` : content;
}

/**
 * The transcript file text: header, then `=== N. ROLE ===` sections for non-empty entries
 * (numbered consecutively), separated by blank lines, ending with a single "\n".
 * Pass the messages without the output-integrity guard and without the tool prompt.
 */
export function buildHistoryTranscript(messages: CanonicalMessage[], opts: HistoryTranscriptOptions = {}): string {
  const sections: string[] = [HEADER];
  let n = 0;
  for (const m of messages) {
    let body: string;
    if (m.role === "assistant") body = assistantText(m, opts.renderToolCalls).trim();
    else if (m.role === "tool") body = toolEntry(m);
    else body = m.text.trim();
    if (!body) continue;
    n++;
    const label = (m.role === "developer" ? "system" : m.role).toUpperCase();
    sections.push(`=== ${n}. ${label} ===\n${body}`);
  }
  return sections.join("\n\n") + "\n";
}

/** The message list that replaces the conversation once the transcript is attached. */
export function historyContinueMessages(): CanonicalMessage[] {
  return [{ role: "user", text: HISTORY_CONTINUE_USER_LINE }];
}
