/** Encodes the fake OnDemand stream (§B.2.2 as captured by third parties): frames, heartbeats, [DONE], [ERROR]. */
import type { OdReplyScript } from "./state.ts";

export interface FrameStyle {
  dataSpace: boolean;
  eventLines: boolean;
}

export function frame(style: FrameStyle, event: string | undefined, payload: string): string {
  return `${style.eventLines && event ? `event:${event}\n` : ""}data:${style.dataSpace ? " " : ""}${payload}\n\n`;
}

/** Split by code points (CJK and emoji stay whole per delta; their bytes may still split across writes). */
export function deltas(text: string, size: number): string[] {
  const cps = [...text];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(""));
  return out;
}

export function roughTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export type StreamStep =
  | { kind: "write"; text: string }
  | { kind: "sleep"; ms: number }
  | { kind: "stall"; ms: number; heartbeatMs?: number }
  | { kind: "cut" }
  | { kind: "end" };

/** The whole reply as steps the server plays. */
export function streamSteps(script: OdReplyScript, ids: { sessionId: string; messageId: string }, query: string): StreamStep[] {
  const style: FrameStyle = { dataSpace: script.dataSpace ?? false, eventLines: script.eventLines ?? true };
  const steps: StreamStep[] = [];
  const put = (event: string | undefined, payload: unknown) => steps.push({ kind: "write", text: frame(style, event, typeof payload === "string" ? payload : JSON.stringify(payload)) });
  const delay = () => {
    if (script.delayMs) steps.push({ kind: "sleep", ms: script.delayMs });
  };
  const base = { sessionId: ids.sessionId, messageId: ids.messageId };
  put("message", { eventType: "statusLog", ...base, currentStatusLog: { statusType: "agent_execution_started", statusMessage: "Starting", retrievedAgents: [], executedAgents: [] } });
  for (let i = 0; i < (script.heartbeats ?? 1); i++) put("heartbeat", { ...base, time: new Date().toISOString() });
  if (script.malformed) steps.push({ kind: "write", text: "this is not an event stream line\n\n" });
  if (script.longLineChars) put("message", { eventType: "planning_output", ...base, output: { delta: "x".repeat(script.longLineChars) } });
  if (script.thinking) {
    for (const d of deltas(script.thinking, script.deltaChars ?? 4)) {
      put("thinking", { eventType: "fulfillment_thinking", ...base, thinking: { delta: d } });
      delay();
    }
  }
  const parts = deltas(script.answer, script.deltaChars ?? 4);
  const sent = script.dropLastDeltas ? parts.slice(0, Math.max(0, parts.length - script.dropLastDeltas)) : parts;
  for (let i = 0; i <= sent.length; i++) {
    if (script.stall && script.stall.afterDeltas === i) steps.push({ kind: "stall", ms: script.stall.ms, heartbeatMs: script.stall.heartbeatMs });
    if (script.cutAfterDeltas === i) {
      steps.push({ kind: "cut" });
      return steps;
    }
    if (script.truncateAfterDeltas === i) {
      steps.push({ kind: "end" });
      return steps;
    }
    if (script.errorAfterDeltas && script.errorAfterDeltas.after === i) {
      const e = script.errorAfterDeltas;
      put(undefined, `[ERROR]:${e.raw ?? JSON.stringify({ message: e.message, errorCode: e.errorCode ?? "server_error" })}`);
      steps.push({ kind: "end" });
      return steps;
    }
    if (i === sent.length) break;
    put("message", { eventType: "fulfillment", ...base, answer: sent[i], status: "processing", eventIndex: i + 1 });
    delay();
  }
  if (script.completedAnswer !== false) {
    put("message", { eventType: "statusLog", ...base, currentStatusLog: { statusType: "fulfillment_completed", statusMessage: "Completed", answer: script.completedAnswer ?? script.answer } });
  }
  const metrics = script.metrics ?? { inputTokens: roughTokens(query), outputTokens: roughTokens(script.answer) };
  put("message", {
    eventType: "metricsLog",
    ...base,
    publicMetrics: { ...metrics, totalTokens: metrics.inputTokens + metrics.outputTokens, ragTimeSec: 0, fulfillmentTimeSec: 0.1, totalTimeSec: 0.1 },
  });
  put(undefined, "[DONE]");
  steps.push({ kind: "end" });
  return steps;
}
