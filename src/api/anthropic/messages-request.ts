/** Anthropic Messages request → canonical turn. */
import type { ModelCatalog, ResolvedModel, UserAliases } from "../../core/models/index.ts";
import type { Attachment, CanonicalMessage, CanonicalToolCall } from "../../core/prompt/message.ts";
import { resolveThinking } from "../../core/thinking.ts";
import { normalizeToolChoice, normalizeTools } from "../../core/toolcalls/index.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { modelLookupError } from "../model-lookup.ts";
import { passthroughFields, pinnedAccount } from "../request-meta.ts";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Claude model ids change often and Claude Code sends new ones (and `haiku` ids for background work), so an
 * unknown `claude-*` id runs on the closest native model instead of failing; anything else must resolve.
 */
export function resolveClaudeModel(name: string, aliases: UserAliases, catalog: ModelCatalog): ResolvedModel {
  const r = catalog.lookup(name, aliases);
  if (r.ok) return r.model;
  if (r.code !== "model_not_found" || r.provider || r.candidates) throw modelLookupError(r);
  const key = name.trim().toLowerCase();
  if (key.startsWith("claude")) {
    const base = /opus/.test(key) ? "deepseek-v4-pro" : "deepseek-v4-flash";
    const id = key.endsWith("-nothinking") ? `${base}-nothinking` : base;
    const fallback = catalog.resolve(id);
    if (fallback) return { ...fallback, requested: name.trim() };
  }
  const listed = catalog.listed().map((m) => catalog.listedId(m));
  throw new HttpError(400, `model "${name}" is not available; use a claude-* id or one of: ${listed.join(", ")}`, "model_not_found");
}

/** `system` as a string or an array of text blocks (cache_control and other block fields ignored). */
export function systemText(system: unknown): string {
  if (typeof system === "string") return system;
  if (Array.isArray(system)) {
    return system
      .map((b) => (typeof b === "string" ? b : isObj(b) && typeof b.text === "string" ? b.text : ""))
      .filter((t) => t !== "")
      .join("\n\n");
  }
  return "";
}

function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? "" : JSON.stringify(content);
  return content
    .map((b) => {
      if (!isObj(b)) return typeof b === "string" ? b : "";
      if (b.type === "text" && typeof b.text === "string") return b.text;
      if (b.type === "image" || b.type === "document") return `[${b.type} omitted]`;
      return JSON.stringify(b);
    })
    .filter((t) => t !== "")
    .join("\n");
}

/** An `image` / `document` block's source (base64, url, file id, or a plain-text document) as an attachment. */
function claudeAttachment(b: Record<string, unknown>, where: string): Attachment {
  const kind = b.type === "image" ? "image" : "file";
  const src = isObj(b.source) ? b.source : undefined;
  const mediaType = typeof src?.media_type === "string" ? src.media_type : undefined;
  const filename = typeof b.title === "string" && b.title ? b.title : undefined;
  if (src?.type === "base64" && typeof src.data === "string") return { kind, source: { type: "base64", data: src.data, mediaType }, filename };
  if (src?.type === "url" && typeof src.url === "string") return { kind, source: { type: "url", url: src.url, mediaType }, filename };
  if (src?.type === "file" && typeof src.file_id === "string") return { kind, source: { type: "file_id", id: src.file_id }, filename };
  if (src?.type === "text" && typeof src.data === "string" && kind === "file") {
    return { kind, source: { type: "base64", data: Buffer.from(src.data, "utf8").toString("base64"), mediaType: mediaType ?? "text/plain" }, filename };
  }
  throw new HttpError(400, `${where}.source must be {type:"base64", media_type, data}, {type:"url", url} or {type:"file", file_id}`);
}

/** Claude messages → canonical messages: text, thinking (as reasoning), tool_use calls and tool_result messages. */
export function normalizeClaudeMessages(system: unknown, messages: unknown[]): CanonicalMessage[] {
  const out: CanonicalMessage[] = [];
  const sys = systemText(system);
  if (sys.trim()) out.push({ role: "system", text: sys });
  const callNames = new Map<string, string>();
  messages.forEach((raw, i) => {
    if (!isObj(raw)) throw new HttpError(400, `messages[${i}] must be an object with role and content`);
    const role = raw.role === "assistant" ? "assistant" : raw.role === "user" ? "user" : raw.role === "system" ? "system" : undefined;
    if (!role) throw new HttpError(400, `messages[${i}].role must be "user" or "assistant"`);
    const content = raw.content;
    if (typeof content === "string") {
      out.push({ role, text: content });
      return;
    }
    if (!Array.isArray(content)) throw new HttpError(400, `messages[${i}].content must be a string or an array of content blocks`);
    const texts: string[] = [];
    const reasoning: string[] = [];
    const calls: CanonicalToolCall[] = [];
    const attachments: Attachment[] = [];
    const flush = () => {
      if (texts.length || reasoning.length || calls.length || attachments.length) {
        const msg: CanonicalMessage = { role, text: texts.join("\n"), reasoning: reasoning.length ? reasoning.join("\n") : undefined, toolCalls: calls.length ? [...calls] : undefined };
        if (attachments.length) msg.attachments = [...attachments];
        out.push(msg);
      }
      texts.length = 0;
      reasoning.length = 0;
      calls.length = 0;
      attachments.length = 0;
    };
    content.forEach((b, j) => {
      if (!isObj(b)) throw new HttpError(400, `messages[${i}].content[${j}] must be a content block object`);
      switch (b.type) {
        case "text":
          texts.push(typeof b.text === "string" ? b.text : "");
          break;
        case "thinking":
          if (typeof b.thinking === "string" && b.thinking) reasoning.push(b.thinking);
          break;
        case "redacted_thinking":
          break;
        case "image":
        case "document":
          attachments.push(claudeAttachment(b, `messages[${i}].content[${j}]`));
          break;
        case "tool_use": {
          const id = typeof b.id === "string" ? b.id : undefined;
          const name = typeof b.name === "string" ? b.name : "";
          if (!name) throw new HttpError(400, `messages[${i}].content[${j}] tool_use needs a name`);
          if (id) callNames.set(id, name);
          calls.push({ id, name, arguments: b.input ?? {} });
          break;
        }
        case "tool_result": {
          flush();
          const id = typeof b.tool_use_id === "string" ? b.tool_use_id : undefined;
          const text = blockText(b.content);
          out.push({ role: "tool", text: b.is_error === true ? `[error] ${text}` : text, toolCallId: id, toolName: id ? callNames.get(id) : undefined });
          break;
        }
        default:
          texts.push(blockText([b]));
      }
    });
    flush();
  });
  return out;
}

/** Thinking is shown only when the client asks for it (`thinking: {type:"enabled"}`), as the official API does. */
function thinkingRequested(body: Record<string, unknown>): boolean {
  const t = body.thinking;
  return isObj(t) ? t.type === "enabled" || t.type === "adaptive" : t === true;
}

export function messagesTurnRequest(ctx: AppContext, body: Record<string, unknown>, request: Request, caller: Caller): TurnRequest {
  const model = resolveClaudeModel(String(body.model), ctx.settings.modelAliases(), ctx.providers.catalog());
  const tools = normalizeTools(body.tools);
  const thinking = resolveThinking(body, model);
  return {
    surface: "anthropic",
    model,
    messages: normalizeClaudeMessages(body.system, body.messages as unknown[]),
    thinking,
    exposeReasoning: thinking && thinkingRequested(body),
    injectThinking: false,
    tools,
    toolChoice: normalizeToolChoice(body.tool_choice),
    stream: body.stream === true,
    passthrough: passthroughFields(body, ["temperature", "top_p"]),
    callerId: caller.id,
    directToken: caller.kind === "direct" ? caller.token : undefined,
    pinnedAccount: pinnedAccount(request, caller),
  };
}
