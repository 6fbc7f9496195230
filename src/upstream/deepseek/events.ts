/**
 * Events produced from one DeepSeek completion/continue stream. The SSE parser (`sse/parser.ts`) yields
 * these; the completion runner consumes them, and the provider maps them onto the provider-neutral
 * `UpstreamEvent`s of core (`toUpstreamEvent`). Text is never trimmed: whitespace-only pieces are content.
 */
import type { SearchSource, UpstreamEvent } from "../../core/upstream/provider.ts";

export type { SearchSource };

export type TerminalStatus = "FINISHED" | "INCOMPLETE" | "CONTENT_FILTER" | "AUTO_CONTINUE";

/** The DeepSeek-only frames; every other event has the neutral shape (minus `progress`). */
type DeepSeekOnlyEvent =
  /** `event: ready` (or ids found in the envelope). */
  | { type: "ready"; requestMessageId?: number; responseMessageId?: number; modelType?: string }
  /** A status seen for the message (`quasi_status` is reported too, marked `quasi`). */
  | { type: "status"; status: TerminalStatus | string; quasi?: boolean }
  /** Auto title (first turn only). */
  | { type: "title"; title: string };

/**
 * reasoning (THINK fragments, legacy `thinking_content`, text before `</think>`), text (RESPONSE fragments,
 * legacy `content`; `[reference:N]` / `[citation:N]` markers kept verbatim), sources, citation, usage
 * (`accumulated_token_usage`, carried across continue rounds), content_filter, error (an in-stream error
 * frame; `code` is the envelope code when it came as a JSON envelope, §1.2), plus the DeepSeek-only frames.
 */
export type DeepSeekEvent = Exclude<UpstreamEvent, { type: "progress" }> | DeepSeekOnlyEvent;

/** The provider-neutral event for a DeepSeek event (ids, status frames and titles are signs of life). */
export function toUpstreamEvent(ev: DeepSeekEvent): UpstreamEvent {
  switch (ev.type) {
    case "ready":
    case "status":
    case "title":
      return { type: "progress", what: ev.type };
    default:
      return ev;
  }
}
