/**
 * OpenAI Chat `messages` → canonical messages (upstream-protocol §6.2 step 1, toolcalls.md §1.3–1.4).
 */
import type { Attachment, CanonicalMessage, CanonicalToolCall } from "./message.ts";

type Rec = Record<string, unknown>;

function isRecord(v: unknown): v is Rec {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

const TEXT_PARTS = new Set(["text", "input_text", "output_text"]);
const REASONING_PARTS = new Set(["reasoning", "thinking", "reasoning_text", "summary_text"]);
const IMAGE_PARTS = new Set(["image_url", "input_image", "image"]);
const FILE_PARTS = new Set(["file", "input_file"]);

export function normalizeRole(role: unknown): string {
  const r = typeof role === "string" ? role.trim().toLowerCase() : "";
  if (r === "") return "user";
  if (r === "developer") return "system";
  if (r === "function") return "tool";
  return r;
}

interface ContentParts {
  text: string;
  reasoning: string[];
  attachments: Attachment[];
}

function partText(p: Rec): string | undefined {
  return str(p.text) ?? str(p.content);
}

function reasoningText(p: Rec): string | undefined {
  const direct = str(p.thinking) ?? str(p.reasoning) ?? str(p.text) ?? str(p.content);
  if (direct !== undefined) return direct;
  if (Array.isArray(p.summary)) {
    const texts = p.summary.map((s) => (isRecord(s) ? str(s.text) : str(s))).filter((s): s is string => !!s);
    if (texts.length) return texts.join("\n");
  }
  return undefined;
}

function imageUrl(p: Rec): string | undefined {
  const u = p.image_url ?? p.url;
  if (typeof u === "string") return u;
  if (isRecord(u)) return str(u.url);
  return undefined;
}

/** `image_url` / `input_image` (url, data URL or `file_id`). */
function imagePart(p: Rec): Attachment | undefined {
  const u = imageUrl(p);
  if (u) return { kind: "image", source: { type: "url", url: u } };
  const id = str(p.file_id);
  return id ? { kind: "image", source: { type: "file_id", id } } : undefined;
}

/** Chat `{type:"file", file:{file_id|file_data, filename}}` and Responses `input_file` (`file_id`, `file_data`, `file_url`). */
function filePart(p: Rec): Attachment | undefined {
  const f = isRecord(p.file) ? p.file : p;
  const filename = str(f.filename);
  const id = str(f.file_id);
  if (id) return { kind: "file", source: { type: "file_id", id }, filename };
  const data = str(f.file_data);
  if (data) return { kind: "file", source: data.startsWith("data:") ? { type: "url", url: data } : { type: "base64", data }, filename };
  const url = str(f.file_url);
  return url ? { kind: "file", source: { type: "url", url }, filename } : undefined;
}

/** Text of a content value: a string, text parts joined by "\n", or JSON for anything else. */
export function contentParts(content: unknown): ContentParts {
  const out: ContentParts = { text: "", reasoning: [], attachments: [] };
  if (content === undefined || content === null) return out;
  if (typeof content === "string") {
    out.text = content;
    return out;
  }
  if (!Array.isArray(content)) {
    out.text = JSON.stringify(content);
    return out;
  }
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === "string") {
      texts.push(part);
      continue;
    }
    if (!isRecord(part)) continue;
    const type = typeof part.type === "string" ? part.type : "";
    if (TEXT_PARTS.has(type)) {
      const t = partText(part);
      if (t !== undefined) texts.push(t);
    } else if (REASONING_PARTS.has(type)) {
      const t = reasoningText(part);
      if (t) out.reasoning.push(t);
    } else if (IMAGE_PARTS.has(type)) {
      const a = imagePart(part);
      if (a) out.attachments.push(a);
    } else if (FILE_PARTS.has(type)) {
      const a = filePart(part);
      if (a) out.attachments.push(a);
    }
  }
  out.text = texts.join("\n");
  return out;
}

function toolCallFrom(raw: unknown): CanonicalToolCall | undefined {
  if (!isRecord(raw)) return undefined;
  const fn = isRecord(raw.function) ? raw.function : undefined;
  const name = str(fn?.name) ?? str(raw.name);
  if (!name || !name.trim()) return undefined;
  const args = fn ? fn.arguments ?? fn.input : raw.arguments ?? raw.input;
  const call: CanonicalToolCall = { name, arguments: args === undefined ? {} : args };
  const id = str(raw.id) ?? str(raw.call_id);
  if (id) call.id = id;
  return call;
}

/** Normalise OpenAI Chat messages; unknown roles are kept only when their text is non-empty. */
export function normalizeOpenAiMessages(messages: unknown[]): CanonicalMessage[] {
  const out: CanonicalMessage[] = [];
  const callNames = new Map<string, string>();
  for (const raw of messages) {
    if (!isRecord(raw)) continue;
    const role = normalizeRole(raw.role);
    const parts = contentParts(raw.content);
    const msg: CanonicalMessage = { role, text: parts.text };
    if (parts.attachments.length) msg.attachments = parts.attachments;

    if (role === "assistant") {
      const reasoning = str(raw.reasoning_content) ?? (parts.reasoning.length ? parts.reasoning.join("\n") : undefined);
      if (reasoning) msg.reasoning = reasoning;
      const calls: CanonicalToolCall[] = [];
      if (Array.isArray(raw.tool_calls)) {
        for (const c of raw.tool_calls) {
          const call = toolCallFrom(c);
          if (call) calls.push(call);
        }
      }
      const legacy = toolCallFrom(raw.function_call);
      if (legacy) calls.push(legacy);
      if (calls.length) {
        msg.toolCalls = calls;
        for (const c of calls) if (c.id) callNames.set(c.id, c.name);
      }
    } else if (role === "tool") {
      const id = str(raw.tool_call_id) ?? str(raw.call_id);
      if (id) msg.toolCallId = id;
      const name = str(raw.name) || (id ? callNames.get(id) : undefined);
      if (name) msg.toolName = name;
    } else if (role !== "system" && role !== "user" && msg.text.trim() === "") {
      continue;
    }
    out.push(msg);
  }
  return out;
}
