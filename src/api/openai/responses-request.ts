/** OpenAI Responses request (`input` items, `instructions`, flat function tools) → canonical turn. */
import { normalizeOpenAiMessages } from "../../core/prompt/normalize-openai.ts";
import { resolveThinking } from "../../core/thinking.ts";
import { normalizeToolChoice, normalizeTools } from "../../core/toolcalls/index.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { passthroughFields, pinnedAccount } from "../request-meta.ts";
import { requireModel } from "../model-lookup.ts";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type ChatMessage = Record<string, unknown>;

/** Responses input (string, one item, or items) → chat-style messages; consecutive function calls share one assistant turn. */
export function responsesInputToChat(input: unknown): ChatMessage[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const items = Array.isArray(input) ? input : isObj(input) ? [input] : [];
  const out: ChatMessage[] = [];
  items.forEach((item, i) => {
    if (typeof item === "string") {
      out.push({ role: "user", content: item });
      return;
    }
    if (!isObj(item)) throw new HttpError(400, `input[${i}] must be a string or an item object`);
    const type = typeof item.type === "string" ? item.type : "message";
    switch (type) {
      case "message":
      case "input_message":
        out.push({ role: typeof item.role === "string" ? item.role : "user", content: item.content ?? "" });
        break;
      case "function_call":
      case "tool_call": {
        const call = {
          id: String(item.call_id ?? item.id ?? `call_${i}`),
          type: "function",
          function: { name: String(item.name ?? ""), arguments: typeof item.arguments === "string" ? item.arguments : JSON.stringify(item.arguments ?? item.input ?? {}) },
        };
        const last = out.at(-1);
        if (last && last.role === "assistant" && Array.isArray(last.tool_calls) && !last.content) (last.tool_calls as unknown[]).push(call);
        else out.push({ role: "assistant", content: null, tool_calls: [call] });
        break;
      }
      case "function_call_output":
      case "tool_result": {
        const output = item.output ?? item.content ?? "";
        out.push({ role: "tool", tool_call_id: String(item.call_id ?? item.tool_call_id ?? ""), content: typeof output === "string" ? output : JSON.stringify(output) });
        break;
      }
      case "reasoning":
        break; // our own reasoning echoed back; not part of the prompt
      default:
        out.push({ role: "user", content: JSON.stringify(item) });
    }
  });
  return out;
}

/**
 * The turn, plus the conversation it continues (history from `previous_response_id` + this input, without
 * `instructions`, which apply to one request only) for the response store.
 */
export function responsesTurnRequest(
  ctx: AppContext,
  body: Record<string, unknown>,
  history: ChatMessage[],
  request: Request,
  caller: Caller,
): { turn: TurnRequest; conversation: ChatMessage[] } {
  const model = requireModel(ctx, body.model);
  const input = Array.isArray(body.messages) && body.messages.length ? (body.messages as ChatMessage[]) : responsesInputToChat(body.input);
  if (input.length === 0) throw new HttpError(400, "request must include 'input' or 'messages'");
  const conversation = [...history, ...input];
  const chat: ChatMessage[] = [];
  if (typeof body.instructions === "string" && body.instructions.trim()) chat.push({ role: "system", content: body.instructions });
  chat.push(...conversation);
  const tools = normalizeTools(body.tools);
  const injection = ctx.settings.section<{ enabled?: boolean }>("thinking_injection");
  const passthrough = passthroughFields(body, ["temperature", "top_p"]);
  if (typeof body.max_output_tokens === "number") passthrough.max_tokens = body.max_output_tokens;
  const turn: TurnRequest = {
    surface: "openai",
    model,
    messages: normalizeOpenAiMessages(chat),
    thinking: resolveThinking(body, model),
    exposeReasoning: true,
    injectThinking: injection.enabled !== false,
    tools,
    toolChoice: normalizeToolChoice(body.tool_choice),
    stream: body.stream === true,
    passthrough,
    callerId: caller.id,
    directToken: caller.kind === "direct" ? caller.token : undefined,
    pinnedAccount: pinnedAccount(request, caller),
  };
  return { turn, conversation };
}
