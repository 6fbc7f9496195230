/**
 * The canonical turn: what every client surface translates its request into, and the events it renders
 * back. Provider-neutral: the upstream is reached through a `TurnBackend`.
 */
import type { DeepSeekEvent } from "../../upstream/deepseek/events.ts";
import type { Citation } from "../citations.ts";
import type { ResolvedModel } from "../models/index.ts";
import type { CanonicalMessage } from "../prompt/message.ts";
import type { ParsedToolCall, ToolChoice, ToolSpec } from "../toolcalls/types.ts";
import type { Usage } from "../usage/usage.ts";

export type SurfaceName = "openai" | "anthropic" | "gemini";

export interface TurnRequest {
  surface: SurfaceName;
  model: ResolvedModel;
  messages: CanonicalMessage[];
  thinking: boolean;
  /** Send reasoning to the client (false: it is still read, for tool calls, but not shown). */
  exposeReasoning: boolean;
  /** Append the thinking-effort instruction to the latest user message (OpenAI surfaces). */
  injectThinking: boolean;
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  stream: boolean;
  /** Sampling fields copied to the upstream payload as given. */
  passthrough: Record<string, unknown>;
  /** Stable id of the caller (never the credential itself). */
  callerId: string;
  /** A caller's own DeepSeek token (direct-token mode). */
  directToken?: string;
  /** X-Ds2-Target-Account. */
  pinnedAccount?: string;
}

export interface ToolCallOut extends ParsedToolCall {
  /** Unique per response and across turns (`call_…`). */
  id: string;
  /** Position of the call in the whole response (stable, grows across blocks). */
  index: number;
}

export type FinishReason = "stop" | "tool_calls" | "content_filter" | "length";

export type TurnEvent =
  /** The upstream answered; carries the prompt's token count (before any delta). */
  | { type: "started"; promptTokens: number }
  | { type: "reasoning"; text: string }
  | { type: "text"; text: string }
  | { type: "tool_calls"; calls: ToolCallOut[] }
  | { type: "done"; finishReason: FinishReason; usage: Usage; citations: Citation[]; text: string; reasoning: string };

/** What the backend is asked to run: one upstream turn for a built prompt. */
export interface UpstreamTurn {
  prompt: string;
  /** Conversation transcript to upload as DS2API_HISTORY.txt and attach (the prompt then only points at it). */
  historyFile?: string;
  modelType: string;
  thinking: boolean;
  search: boolean;
  passthrough: Record<string, unknown>;
  callerId: string;
  directToken?: string;
  pinnedAccount?: string;
}

export interface UpstreamOutcome {
  contentFiltered: boolean;
  /** The continue cap was hit while the message was still INCOMPLETE. */
  truncated: boolean;
  /** Both the first attempt and the empty-output retry showed nothing. */
  empty: boolean;
  /** Only reasoning came back (for the error text). */
  reasoningOnly: boolean;
  account?: string;
}

export interface TurnBackend {
  run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<DeepSeekEvent, UpstreamOutcome>;
}
