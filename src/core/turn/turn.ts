/**
 * The canonical turn: what every client surface translates its request into, and the events it renders
 * back. Provider-neutral: the upstream is reached through an `UpstreamProvider` (../upstream/provider.ts).
 */
import type { Citation } from "../citations.ts";
import type { ResolvedModel } from "../models/index.ts";
import type { CanonicalMessage } from "../prompt/message.ts";
import type { ParsedToolCall, ToolChoice, ToolSpec } from "../toolcalls/types.ts";
import type { Usage } from "../usage/usage.ts";
import type { TurnAttachment } from "../upstream/provider.ts";

export type SurfaceName = "openai" | "anthropic" | "gemini" | "ollama";

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
  /** X-Ds2-Target-Account, or the account that holds a referenced file. */
  pinnedAccount?: string;
  /** The messages' attachments, resolved to bytes (uploaded by the provider with the serving account). */
  attachments?: TurnAttachment[];
  /** Files uploaded earlier (on `pinnedAccount`), referenced by id. */
  refFileIds?: string[];
  /** An image is attached: the provider's vision variant runs the turn. */
  vision?: boolean;
  /** Dev capture of the raw upstream stream (set by a turn observer, §12.7). */
  tap?: RawStreamTap;
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
  | {
      type: "done";
      finishReason: FinishReason;
      usage: Usage;
      citations: Citation[];
      text: string;
      reasoning: string;
      /** The upstream account / credential that served the turn, when the provider says. */
      account?: string;
    };

export type { UpstreamOutcome, UpstreamTurn } from "../upstream/provider.ts";
import type { RawStreamTap } from "../upstream/provider.ts";
