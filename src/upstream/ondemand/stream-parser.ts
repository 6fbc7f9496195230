/**
 * OnDemand's query stream (other-providers.md §B.2.2) → frames we act on. SSE-ish: `event:` lines are
 * optional, `data:` comes with or without a space, `data:[DONE]` ends, `data:[ERROR]:{…}` is an in-stream error.
 * The kind of a data frame is its `eventType`: `fulfillment` (answer delta), `*_thinking` (reasoning delta in
 * `thinking.delta`), `metricsLog` (usage), `statusLog` (lifecycle; `fulfillment_completed` may repeat the full
 * answer); frames without `eventType` are heartbeats. Bytes may split anywhere (UTF-8 is decoded in stream mode).
 */
import { streamError, type OnDemandError } from "./errors.ts";

export type OnDemandFrame =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "usage"; inputTokens?: number; outputTokens?: number }
  /** statusLog `fulfillment_completed` with the full answer (used to recover a missing tail). */
  | { type: "completed"; answer?: string }
  /** Another frame we read but do not forward (statusLog, planning output, an unknown eventType). */
  | { type: "status"; what: string }
  /** A frame without eventType: a keep-alive. It does not count as activity for the idle limit. */
  | { type: "heartbeat" }
  | { type: "error"; error: OnDemandError }
  | { type: "done" };

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The reasoning text of a `*_thinking` frame: `thinking.delta` (object form), or a plain string. */
function thinkingText(frame: Record<string, unknown>): string | undefined {
  const t = frame.thinking;
  if (typeof t === "string") return t;
  if (t && typeof t === "object") return str((t as Record<string, unknown>).delta);
  return undefined;
}

/** One `data:` payload → a frame; undefined for an unparseable line (counted by the caller). */
export function parseDataPayload(payload: string): OnDemandFrame | undefined {
  const p = payload.trim();
  if (p === "[DONE]") return { type: "done" };
  if (p.startsWith("[ERROR]")) return { type: "error", error: streamError(p.slice("[ERROR]".length).replace(/^\s*:/, "")) };
  let json: unknown;
  try {
    json = JSON.parse(p);
  } catch {
    return undefined;
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) return undefined;
  const frame = json as Record<string, unknown>;
  const eventType = str(frame.eventType);
  if (!eventType) return { type: "heartbeat" };
  if (eventType === "fulfillment") {
    const answer = str(frame.answer);
    return answer === undefined ? { type: "status", what: eventType } : { type: "text", text: answer };
  }
  if (eventType.endsWith("_thinking") || eventType === "thinking") {
    const text = thinkingText(frame);
    return text === undefined ? { type: "status", what: eventType } : { type: "reasoning", text };
  }
  if (eventType === "metricsLog") {
    const m = (frame.publicMetrics ?? {}) as Record<string, unknown>;
    return { type: "usage", inputTokens: num(m.inputTokens), outputTokens: num(m.outputTokens) };
  }
  if (eventType === "statusLog") {
    const log = (frame.currentStatusLog ?? {}) as Record<string, unknown>;
    if (log.statusType === "fulfillment_completed") return { type: "completed", answer: str(log.answer) };
    return { type: "status", what: `statusLog:${str(log.statusType) ?? "?"}` };
  }
  return { type: "status", what: eventType };
}

/** Incremental decoder: bytes in, frames out. Lines that are neither `data:`, `event:`, `id:`, comments nor blank are garbage. */
export class OnDemandStreamParser {
  private readonly decoder = new TextDecoder();
  private buffer = "";
  /** Lines that could not be read (garbage, broken JSON). */
  garbage = 0;
  /** Frames read so far (any kind). */
  frames = 0;

  push(bytes: Uint8Array): OnDemandFrame[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.drain(false);
  }

  end(): OnDemandFrame[] {
    this.buffer += this.decoder.decode();
    return this.drain(true);
  }

  private drain(final: boolean): OnDemandFrame[] {
    const out: OnDemandFrame[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, "");
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line, out);
    }
    if (final && this.buffer) {
      const line = this.buffer;
      this.buffer = "";
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: OnDemandFrame[]): void {
    if (line.trim() === "" || line.startsWith(":")) return;
    if (line.startsWith("data:")) {
      const frame = parseDataPayload(line.slice(5));
      if (frame) {
        this.frames++;
        out.push(frame);
      } else this.garbage++;
      return;
    }
    if (/^(event|id|retry):/.test(line)) return;
    this.garbage++;
  }
}
