/**
 * Records every business turn in the chat history (§12.6) while the `chat_history.limit` setting is above 0:
 * an entry in `streaming` state when the turn starts, then `success`, `error` or `stopped` with the answer,
 * reasoning, tool calls, usage and timing. Stores the caller id (a hash), never a key, token or password.
 */
import { randomBytes } from "node:crypto";
import { promptForTurn } from "../core/turn/execute-turn.ts";
import type { ToolCallOut, TurnEvent, TurnRequest } from "../core/turn/turn.ts";
import type { TurnObserver, TurnOutcomeInfo, TurnStartInfo, TurnWatch } from "../core/turn/turn-observer.ts";
import type { AppContext } from "../context.ts";
import type { ChatHistoryDetail, ChatHistoryEnd } from "../store/chat-history-repo.ts";

export const CHAT_HISTORY_SECTION = "chat_history";
/** Off unless the setting says otherwise. */
export const DEFAULT_CHAT_HISTORY_LIMIT = 0;
export const MAX_CHAT_HISTORY_LIMIT = 10_000;

const PREVIEW_CHARS = 160;
const USER_INPUT_CHARS = 2_000;

export function chatHistoryLimit(ctx: Pick<AppContext, "settings">): number {
  const limit = ctx.settings.section<{ limit?: number }>(CHAT_HISTORY_SECTION).limit;
  return typeof limit === "number" && Number.isInteger(limit) && limit >= 0 ? Math.min(limit, MAX_CHAT_HISTORY_LIMIT) : DEFAULT_CHAT_HISTORY_LIMIT;
}

/** The §12.6 surface name for a turn (by the request path for the two OpenAI surfaces and the two Ollama ones). */
export function historySurface(turn: Pick<TurnRequest, "surface">, route: string): string {
  switch (turn.surface) {
    case "openai":
      return route.includes("/responses") ? "openai.responses" : "openai.chat_completions";
    case "anthropic":
      return "claude.messages";
    case "gemini":
      return "gemini.generate_content";
    case "ollama":
      return route.endsWith("/generate") ? "ollama.generate" : "ollama.chat";
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function historyMessages(turn: TurnRequest): ChatHistoryDetail["messages"] {
  return turn.messages.map((m) => ({
    role: m.role,
    content: m.text,
    ...(m.toolCalls?.length ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })) } : {}),
    // Attachments are counted, not stored (images and files can be megabytes).
    ...(m.attachments?.length ? { images: m.attachments.filter((a) => a.kind === "image").length, files: m.attachments.filter((a) => a.kind !== "image").length } : {}),
  }));
}

export class ChatHistoryRecorder implements TurnObserver {
  constructor(private readonly ctx: AppContext) {}

  turnEnded(): void {}

  turnStarted(info: TurnStartInfo): TurnWatch | undefined {
    const limit = chatHistoryLimit(this.ctx);
    if (limit <= 0) return undefined;
    const { turn, caller, route } = info;
    const repo = this.ctx.store.chatHistory;
    const id = `chat_${Date.now().toString(36)}_${randomBytes(6).toString("hex")}`;
    // Written behind the turn (never awaited on its path): a failed write is logged, the turn goes on.
    const report = (what: string) => (e: unknown) => this.ctx.logger.warn(`chat history ${what} failed`, { id, error: (e as Error)?.message ?? String(e) });
    const started = performance.now();
    const messages = historyMessages(turn);
    const lastUser = [...turn.messages].reverse().find((m) => m.role === "user");
    let finalPrompt = "";
    try {
      finalPrompt = promptForTurn(turn, this.ctx.turnDeps());
    } catch {
      // an invalid tool_choice fails the turn itself; the entry then just has no prompt
    }
    const history = turn.messages.slice(0, lastUser ? turn.messages.lastIndexOf(lastUser) : turn.messages.length);
    const stored = repo.start(
      {
        id,
        at: Date.now(),
        caller_id: caller.id,
        provider: turn.model.provider,
        surface: historySurface(turn, route),
        model: turn.model.requested || turn.model.id,
        stream: turn.stream,
        user_input: lastUser ? clip(lastUser.text, USER_INPUT_CHARS) : undefined,
        detail: {
          messages,
          history_text: history.map((m) => `${m.role}: ${m.text}`).join("\n\n"),
          final_prompt: finalPrompt,
          reasoning_content: "",
          content: "",
          tool_calls: [],
          error: "",
          usage: null,
        },
      },
      limit,
    );
    // The finish must land after the start; a failed start leaves nothing to finish.
    const startedOk = stored.then(
      () => true,
      (e: unknown) => {
        report("start")(e);
        return false;
      },
    );
    let reasoning = "";
    let text = "";
    let account: string | undefined;
    let firstOutputAt: number | undefined;
    const calls: ToolCallOut[] = [];
    return {
      event: (ev: TurnEvent) => {
        if (ev.type !== "started" && ev.type !== "done") firstOutputAt ??= performance.now();
        if (ev.type === "reasoning") reasoning += ev.text;
        else if (ev.type === "text") text += ev.text;
        else if (ev.type === "tool_calls") calls.push(...ev.calls);
        else if (ev.type === "done") {
          // The done event carries the final texts (citations rendered for non-stream turns).
          text = ev.text || text;
          reasoning = ev.reasoning || reasoning;
          account = ev.account;
        }
      },
      ended: (end: TurnOutcomeInfo) => {
        const status = end.finishReason ? "success" : end.aborted ? "stopped" : "error";
        const answer = text || (calls.length ? calls.map((c) => `${c.name}(${c.arguments})`).join(", ") : "");
        const finish: ChatHistoryEnd = {
          at: Date.now(),
          status,
          account_id: account,
          status_code: status === "success" ? 200 : end.errorStatus,
          elapsed_ms: end.ms,
          finish_reason: end.finishReason,
          preview: answer ? clip(answer, PREVIEW_CHARS) : undefined,
          detail: {
            reasoning_content: reasoning,
            content: text,
            tool_calls: calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })),
            error: status === "error" ? end.errorMessage ?? end.errorCode ?? "error" : status === "stopped" ? "client disconnected" : "",
            usage: end.usage
              ? { prompt_tokens: end.usage.promptTokens, completion_tokens: end.usage.completionTokens, reasoning_tokens: end.usage.reasoningTokens, total_tokens: end.usage.totalTokens }
              : null,
            first_output_ms: firstOutputAt === undefined ? undefined : Math.round(firstOutputAt - started),
          },
        };
        void startedOk.then((ok) => (ok ? repo.finish(id, finish) : undefined)).catch(report("finish"));
      },
    };
  }
}
