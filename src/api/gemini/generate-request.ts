/** Gemini generateContent request → canonical turn. */
import type { Attachment, CanonicalMessage, CanonicalToolCall } from "../../core/prompt/message.ts";
import { resolveGeminiThinking } from "../../core/thinking.ts";
import { normalizeToolChoice, normalizeTools } from "../../core/toolcalls/index.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { pinnedAccount } from "../request-meta.ts";
import { requireModel } from "../model-lookup.ts";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function partsText(parts: unknown): string {
  if (!Array.isArray(parts)) return "";
  return parts
    .map((p) => (isObj(p) && typeof p.text === "string" && p.thought !== true ? p.text : ""))
    .filter((t) => t !== "")
    .join("\n");
}

/** `systemInstruction` (or `system_instruction`): `{parts:[{text}]}`, `{text}` or a string. */
export function systemInstructionText(raw: unknown): string {
  if (typeof raw === "string") return raw;
  if (!isObj(raw)) return "";
  if (typeof raw.text === "string") return raw.text;
  return partsText(raw.parts);
}

/** `inlineData {mimeType, data}` / `fileData {mimeType, fileUri}` (a URL, or the id of a file uploaded here). */
function geminiAttachment(p: Record<string, unknown>, where: string): Attachment {
  const d = (isObj(p.inlineData) ? p.inlineData : p.fileData) as Record<string, unknown>;
  const mediaType = typeof d.mimeType === "string" ? d.mimeType : undefined;
  const kind = mediaType?.toLowerCase().startsWith("image/") ? "image" : "file";
  const filename = typeof d.displayName === "string" && d.displayName ? d.displayName : undefined;
  if (isObj(p.inlineData)) {
    if (typeof d.data !== "string") throw new HttpError(400, `${where}.inlineData.data must be a base64 string`);
    return { kind, source: { type: "base64", data: d.data, mediaType }, filename };
  }
  const uri = typeof d.fileUri === "string" ? d.fileUri.trim() : "";
  if (!uri) throw new HttpError(400, `${where}.fileData.fileUri is required`);
  if (/^file-[\w-]+$/.test(uri)) return { kind, source: { type: "file_id", id: uri }, filename };
  return { kind, source: { type: "url", url: uri, mediaType }, filename };
}

/** contents[] → canonical messages; functionCall parts become assistant calls, functionResponse parts tool results. */
export function normalizeGeminiContents(system: unknown, contents: unknown[]): CanonicalMessage[] {
  const out: CanonicalMessage[] = [];
  const sys = systemInstructionText(system);
  if (sys.trim()) out.push({ role: "system", text: sys });
  const lastCallIdByName = new Map<string, string>();
  let generated = 0;
  contents.forEach((c, i) => {
    if (!isObj(c)) throw new HttpError(400, `contents[${i}] must be an object with role and parts`);
    const role = c.role === "model" ? "assistant" : c.role === "system" ? "system" : "user";
    const parts = Array.isArray(c.parts) ? c.parts : [];
    const texts: string[] = [];
    const reasoning: string[] = [];
    const calls: CanonicalToolCall[] = [];
    const attachments: Attachment[] = [];
    const flush = () => {
      if (texts.length || calls.length || reasoning.length || attachments.length) {
        const msg: CanonicalMessage = { role, text: texts.join("\n"), reasoning: reasoning.length ? reasoning.join("\n") : undefined, toolCalls: calls.length ? [...calls] : undefined };
        if (attachments.length) msg.attachments = [...attachments];
        out.push(msg);
      }
      texts.length = 0;
      reasoning.length = 0;
      calls.length = 0;
      attachments.length = 0;
    };
    parts.forEach((p, j) => {
      if (!isObj(p)) throw new HttpError(400, `contents[${i}].parts[${j}] must be an object`);
      if (typeof p.text === "string") (p.thought === true ? reasoning : texts).push(p.text);
      else if (isObj(p.functionCall)) {
        const name = String(p.functionCall.name ?? "");
        const id = typeof p.functionCall.id === "string" ? p.functionCall.id : `call_gemini_${++generated}`;
        lastCallIdByName.set(name, id);
        calls.push({ id, name, arguments: p.functionCall.args ?? {} });
      } else if (isObj(p.functionResponse)) {
        flush();
        const fr = p.functionResponse;
        const name = typeof fr.name === "string" ? fr.name : undefined;
        const id = typeof fr.id === "string" ? fr.id : name ? lastCallIdByName.get(name) : undefined;
        const response = fr.response ?? fr.output ?? null;
        out.push({ role: "tool", text: typeof response === "string" ? response : JSON.stringify(response), toolCallId: id, toolName: name });
      } else if (isObj(p.inlineData) || isObj(p.fileData)) {
        attachments.push(geminiAttachment(p, `contents[${i}].parts[${j}]`));
      }
    });
    flush();
  });
  return out;
}

const GENERATION_PASSTHROUGH: Record<string, string> = { temperature: "temperature", topP: "top_p", maxOutputTokens: "max_tokens", stopSequences: "stop" };

export function generateTurnRequest(ctx: AppContext, modelName: string, body: Record<string, unknown>, stream: boolean, request: Request, caller: Caller): TurnRequest {
  const name = modelName.replace(/^models\//, "");
  const model = requireModel(ctx, name);
  const gc = isObj(body.generationConfig) ? body.generationConfig : {};
  const thinking = resolveGeminiThinking(gc, model);
  const tools = normalizeTools(body.tools);
  const passthrough: Record<string, unknown> = {};
  for (const [from, to] of Object.entries(GENERATION_PASSTHROUGH)) if (gc[from] !== undefined) passthrough[to] = gc[from];
  return {
    surface: "gemini",
    model,
    messages: normalizeGeminiContents(body.systemInstruction ?? body.system_instruction, body.contents as unknown[]),
    thinking: thinking.enabled,
    exposeReasoning: thinking.includeThoughts,
    injectThinking: false,
    tools,
    toolChoice: normalizeToolChoice(body.toolConfig ?? body.tool_config),
    stream,
    passthrough,
    callerId: caller.id,
    directToken: caller.kind === "direct" ? caller.token : undefined,
    pinnedAccount: pinnedAccount(request, caller),
  };
}
