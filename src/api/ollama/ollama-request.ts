/**
 * Ollama `/api/chat` and `/api/generate` requests → canonical turn. Model names may carry an Ollama tag
 * (`deepseek-v4-flash:latest`); the tag is dropped before resolution and the name is echoed as sent.
 * Ollama messages are mapped onto OpenAI Chat messages and normalised by the same code as that surface.
 */
import type { ResolvedModel } from "../../core/models/index.ts";
import { normalizeOpenAiMessages } from "../../core/prompt/normalize-openai.ts";
import { resolveThinking } from "../../core/thinking.ts";
import { normalizeToolChoice, normalizeTools } from "../../core/toolcalls/index.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { lookupModel, modelLookupError } from "../model-lookup.ts";
import { pinnedAccount } from "../request-meta.ts";
import type { OllamaChatRequest, OllamaGenerateRequest, OllamaMessageIn } from "./ollama-schema.ts";

/** `name:tag` → `name` (a registry host's `:port` before a `/` is not a tag). */
export function stripOllamaTag(name: string): string {
  const colon = name.lastIndexOf(":");
  return colon > 0 && !name.slice(colon).includes("/") ? name.slice(0, colon) : name;
}

export function resolveOllamaModel(ctx: AppContext, name: string): ResolvedModel {
  // Ollama's own wording for an unknown model, with 404 (an unconfigured provider stays 503).
  const r = lookupModel(ctx, stripOllamaTag(name.trim()));
  if (!r.ok) throw r.code === "provider_unavailable" ? modelLookupError(r) : new HttpError(404, `model "${name.trim()}" not found: ${r.message}`, "model_not_found");
  return { ...r.model, requested: name.trim() };
}

/**
 * Ollama `images` (base64, no data: prefix) → OpenAI content parts after the text; the media type is read
 * from the bytes when the turn's attachments are resolved.
 */
function withImages(text: string, images: readonly string[] | null | undefined): string | Record<string, unknown>[] {
  if (!images?.length) return text;
  const urls = images.map((b64) => (b64.startsWith("data:") ? b64 : `data:;base64,${b64}`));
  return [{ type: "text", text }, ...urls.map((url) => ({ type: "image_url", image_url: { url } }))];
}

function refuseFormat(format: unknown): void {
  if (format === undefined || format === null || format === "") return;
  throw new HttpError(400, "format (structured output) is not supported by this server; describe the JSON you want in the prompt instead", "format_not_supported");
}

/** Ollama `options` → the sampling fields the upstream payload takes. */
function samplingFrom(options: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!options) return out;
  const map: Record<string, string> = {
    temperature: "temperature",
    top_p: "top_p",
    num_predict: "max_tokens",
    stop: "stop",
    presence_penalty: "presence_penalty",
    frequency_penalty: "frequency_penalty",
  };
  for (const [from, to] of Object.entries(map)) if (options[from] !== undefined && options[from] !== null) out[to] = options[from];
  return out;
}

/** One Ollama message as an OpenAI Chat message (tool calls keep object arguments; tool results keep their tool name). */
function openAiMessage(m: OllamaMessageIn): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: withImages(m.content ?? "", m.images) };
  if (m.thinking) out.reasoning_content = m.thinking;
  if (m.tool_calls?.length) {
    out.tool_calls = m.tool_calls.map((c) => ({ ...(c.id ? { id: c.id } : {}), type: "function", function: { name: c.function.name, arguments: c.function.arguments ?? {} } }));
  }
  if (m.tool_name) out.name = m.tool_name;
  if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
  return out;
}

interface TurnBase {
  model: ResolvedModel;
  think: OllamaChatRequest["think"];
  stream: boolean;
  options: OllamaChatRequest["options"];
}

function turnFrom(base: TurnBase, messages: Record<string, unknown>[], tools: unknown, request: Request, caller: Caller): TurnRequest {
  const thinking = resolveThinking({ thinking: base.think ?? undefined }, base.model);
  return {
    surface: "ollama",
    model: base.model,
    messages: normalizeOpenAiMessages(messages),
    thinking,
    exposeReasoning: thinking,
    injectThinking: false,
    tools: normalizeTools(tools),
    toolChoice: normalizeToolChoice(undefined),
    stream: base.stream,
    passthrough: samplingFrom(base.options),
    callerId: caller.id,
    directToken: caller.kind === "direct" ? caller.token : undefined,
    pinnedAccount: pinnedAccount(request, caller),
  };
}

/** Ollama streams unless told `stream: false`. */
export const streams = (stream: boolean | null | undefined) => stream !== false;

export function ollamaChatTurn(ctx: AppContext, body: OllamaChatRequest, request: Request, caller: Caller): TurnRequest {
  const model = resolveOllamaModel(ctx, body.model);
  refuseFormat(body.format);
  const messages = (body.messages ?? []).map(openAiMessage);
  return turnFrom({ model, think: body.think, stream: streams(body.stream), options: body.options }, messages, body.tools, request, caller);
}

export function ollamaGenerateTurn(ctx: AppContext, body: OllamaGenerateRequest, request: Request, caller: Caller): TurnRequest {
  const model = resolveOllamaModel(ctx, body.model);
  refuseFormat(body.format);
  if (body.suffix) throw new HttpError(400, "suffix (fill-in-the-middle) is not supported by this server", "suffix_not_supported");
  const messages: Record<string, unknown>[] = [];
  if (body.system) messages.push({ role: "system", content: body.system });
  messages.push({ role: "user", content: withImages(body.prompt ?? "", body.images) });
  return turnFrom({ model, think: body.think, stream: streams(body.stream), options: body.options }, messages, undefined, request, caller);
}
