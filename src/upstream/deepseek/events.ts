/**
 * Provider-neutral events produced from one DeepSeek completion/continue stream.
 * The SSE parser (`sse/parser.ts`) yields these; the completion runner and every client
 * surface consume them. Text is never trimmed: whitespace-only pieces are content.
 */

export interface SearchSource {
  url: string;
  title?: string;
  /** DeepSeek's `cite_index` when numeric. */
  citeIndex?: number;
}

export type TerminalStatus = "FINISHED" | "INCOMPLETE" | "CONTENT_FILTER" | "AUTO_CONTINUE";

export type DeepSeekEvent =
  /** `event: ready` (or ids found in the envelope). */
  | { type: "ready"; requestMessageId?: number; responseMessageId?: number; modelType?: string }
  /** Reasoning (THINK fragments, legacy `thinking_content`, text before `</think>`). */
  | {
      type: "reasoning";
      text: string;
      /** True when the piece came from a message envelope (full-state snapshot), e.g. the replay at the start of a continue round. */
      snapshot?: boolean;
    }
  /** Answer text (RESPONSE fragments, legacy `content`). `[reference:N]` / `[citation:N]` markers are kept verbatim. */
  | { type: "text"; text: string; /** See `reasoning.snapshot`. */ snapshot?: boolean }
  /** Search sources discovered in the stream, in order of first appearance (deduplicated by URL). */
  | { type: "sources"; sources: SearchSource[] }
  /** A citation marker that appeared in the answer text, linked to its source when known. */
  | { type: "citation"; marker: string; index: number; source?: SearchSource }
  /** DeepSeek's `accumulated_token_usage` (output tokens, carried across continue rounds). */
  | { type: "usage"; outputTokens: number }
  /** A status seen for the message (`quasi_status` is reported too, marked `quasi`). */
  | { type: "status"; status: TerminalStatus | string; quasi?: boolean }
  /** The upstream moderated the answer; nothing after it may be shown. */
  | { type: "content_filter" }
  /** An in-stream error frame. */
  | { type: "error"; message: string; /** The envelope `code` when the error came as a JSON envelope (§1.2). */ code?: number | string }
  /** Auto title (first turn only). */
  | { type: "title"; title: string };
