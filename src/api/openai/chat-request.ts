/** OpenAI Chat Completions request → canonical turn. */
import { normalizeOpenAiMessages } from "../../core/prompt/normalize-openai.ts";
import { resolveThinking } from "../../core/thinking.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { passthroughFields, pinnedAccount } from "../request-meta.ts";
import { normalizeToolChoice, normalizeTools } from "../../core/toolcalls/index.ts";
import { requireModel } from "../model-lookup.ts";

const PASSTHROUGH = ["temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty", "stop"] as const;

export function chatTurnRequest(ctx: AppContext, body: Record<string, unknown>, request: Request, caller: Caller): TurnRequest {
  const model = requireModel(ctx, body.model);
  const tools = normalizeTools(body.tools);
  const toolChoice = normalizeToolChoice(body.tool_choice);
  const injection = ctx.settings.section<{ enabled?: boolean }>("thinking_injection");
  return {
    surface: "openai",
    model,
    messages: normalizeOpenAiMessages(body.messages as unknown[]),
    thinking: resolveThinking(body, model),
    exposeReasoning: true,
    injectThinking: injection.enabled !== false,
    tools,
    toolChoice,
    stream: body.stream === true,
    passthrough: passthroughFields(body, PASSTHROUGH),
    callerId: caller.id,
    directToken: caller.kind === "direct" ? caller.token : undefined,
    pinnedAccount: pinnedAccount(request, caller),
  };
}
