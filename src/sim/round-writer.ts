/** Streams one round (completion or continue) of a planned message as SSE. */
import { FrameEncoder } from "./sse-encoder.ts";
import type { Action, Fragment, MessagePlan } from "./reply-plan.ts";
import { TEMPLATE_REFUSAL } from "./reply-script.ts";

/** Where frames go; the server backs it with a ReadableStream. */
export interface FrameSink {
  write(s: string): void;
  sleep(ms: number): Promise<void>;
  /** Cut the connection without a clean end. */
  disconnect(): void;
  readonly cancelled: boolean;
}

/** Per-message state that survives between rounds (for snapshots and usage carry-over). */
export interface MessageModel {
  requestMessageId: number;
  responseMessageId: number;
  modelType: string;
  thinkingEnabled: boolean;
  searchEnabled: boolean;
  insertedAt: number;
  firstTurn: boolean;
  fragments: Fragment[];
  tokensSent: number;
  hasPending: boolean;
}

const nowSecs = () => Date.now() / 1000;

function fragAt(m: MessageModel, fromEnd: number): Fragment | undefined {
  return m.fragments[m.fragments.length - fromEnd];
}

function appendContent(m: MessageModel, text: string) {
  const f = fragAt(m, 1);
  if (f) f.content = (typeof f.content === "string" ? f.content : "") + text;
}

function envelopeResponse(m: MessageModel): Record<string, unknown> {
  const r: Record<string, unknown> = {
    message_id: m.responseMessageId, parent_id: m.requestMessageId, model: "", role: "ASSISTANT",
    thinking_enabled: m.thinkingEnabled, ban_edit: false, ban_regenerate: false, status: "WIP",
    incomplete_message: null, accumulated_token_usage: m.tokensSent, files: [], feedback: null,
    inserted_at: m.insertedAt, search_enabled: m.searchEnabled,
    fragments: structuredClone(m.fragments),
    conversation_mode: m.searchEnabled ? "DEEP_SEARCH" : "DEFAULT", has_pending_fragment: false, auto_continue: false,
  };
  if (m.searchEnabled) r.search_triggered = true;
  return r;
}

/** Returns "ended" normally, or "aborted" when the stream was cut/cancelled/errored on purpose. */
export async function writeRound(sink: FrameSink, plan: MessagePlan, round: number, m: MessageModel): Promise<"ended" | "aborted"> {
  const enc = new FrameEncoder();
  const start = round === 0 ? 0 : plan.cuts[round - 1]!;
  const end = round < plan.cuts.length ? plan.cuts[round]! : plan.actions.length;
  const finalRound = round >= plan.cuts.length;
  let i = start;

  if (plan.firstByteDelayMs > 0) await sink.sleep(plan.firstByteDelayMs);
  sink.write(enc.event("ready", { request_message_id: m.requestMessageId, response_message_id: m.responseMessageId, model_type: m.modelType }));
  if (round > 0) sink.write(enc.comment());
  sink.write(enc.event("update_session", { updated_at: nowSecs() }));

  // The envelope carries the first piece of content: the first fragment (round 0) or the next token (snapshot replay).
  const first = i < end ? plan.actions[i] : undefined;
  if (first?.a === "fragment" && round === 0) {
    m.fragments.push(structuredClone(first.frag));
    if (typeof first.frag.content === "string") m.tokensSent++;
    i++;
  } else if (first?.a === "token" && round > 0) {
    appendContent(m, first.text);
    m.tokensSent++;
    i++;
  }
  const usageAtStart = m.tokensSent - (i > start ? 1 : 0);
  const env = envelopeResponse(m);
  env.accumulated_token_usage = round === 0 ? 0 : usageAtStart;
  sink.write(enc.envelope(env));

  let tokensThisRound = 0;
  for (; i < end; i++) {
    if (sink.cancelled) return "aborted";
    const act: Action = plan.actions[i]!;
    switch (act.a) {
      case "fragment": {
        const f = structuredClone(act.frag);
        if (act.via === "append") sink.write(enc.patch("response/fragments", "APPEND", [f]));
        else sink.write(enc.patch("response", "BATCH", [{ p: "fragments", o: "APPEND", v: [f] }, { p: "has_pending_fragment", o: "SET", v: false }]));
        m.fragments.push(structuredClone(act.frag));
        if (typeof act.frag.content === "string" && act.frag.type !== "TIP") m.tokensSent++;
        break;
      }
      case "fragments":
        sink.write(enc.patch("response", "BATCH", [{ p: "fragments", o: "APPEND", v: act.frags }, { p: "has_pending_fragment", o: "SET", v: false }]));
        for (const f of act.frags) m.fragments.push(structuredClone(f));
        break;
      case "token":
        sink.write(enc.patch("response/fragments/-1/content", "APPEND", act.text));
        appendContent(m, act.text);
        m.tokensSent++;
        tokensThisRound++;
        if (plan.keepaliveEvery > 0 && tokensThisRound % plan.keepaliveEvery === 0) sink.write(enc.comment());
        if (plan.tokenDelayMs > 0) await sink.sleep(plan.tokenDelayMs);
        break;
      case "cite": {
        const marker = `[reference:${act.index}]`;
        sink.write(enc.patch("response/fragments/-1", "BATCH", [{ p: "content", o: "APPEND", v: marker }, { p: "references", o: "SET", v: [act.ref] }]));
        appendContent(m, marker);
        break;
      }
      case "patch": {
        sink.write(enc.patch(act.p, act.o ?? "SET", act.v));
        if (act.fromEnd && act.fragKey) {
          const f = fragAt(m, act.fromEnd);
          if (f) f[act.fragKey] = structuredClone(act.v);
        }
        break;
      }
      case "comment":
        sink.write(enc.comment());
        break;
      case "raw":
        sink.write(enc.data(act.data));
        break;
      case "error":
        sink.write(enc.data(act.data));
        return "aborted";
      case "disconnect":
        // Let the frames already written reach the socket before the reset.
        await sink.sleep(30);
        sink.disconnect();
        return "aborted";
      case "truncate":
        sink.write('data: {"p":"response/fragments/-1/content","o":"APP');
        return "aborted";
      case "stall": {
        const until = Date.now() + act.ms;
        while (Date.now() < until && !sink.cancelled) {
          const step = act.keepaliveMs ? Math.min(act.keepaliveMs, until - Date.now()) : until - Date.now();
          await sink.sleep(Math.max(0, step));
          if (act.keepaliveMs && Date.now() < until) sink.write(enc.comment());
        }
        break;
      }
    }
  }
  if (sink.cancelled) return "aborted";

  const usage = finalRound && plan.outputTokens !== undefined ? plan.outputTokens : m.tokensSent;
  const tail = (title: boolean, autoResume = false) => {
    if (plan.finishEvent) sink.write(enc.event("finish", {}));
    sink.write(enc.event("update_session", { updated_at: nowSecs() }));
    if (title && round === 0 && m.firstTurn && plan.title) sink.write(enc.event("title", { content: plan.title }));
    sink.write(enc.event("close", { click_behavior: "none", auto_resume: autoResume }));
  };
  const filterBatch = () => [
    { p: "ban_regenerate", v: true },
    { p: "status", v: "CONTENT_FILTER" },
    { p: "fragments", v: [{ id: nextFragmentId(m), type: "TEMPLATE_RESPONSE", content: TEMPLATE_REFUSAL }] },
    { p: "quasi_status", v: "CONTENT_FILTER" },
  ];

  if (!finalRound) {
    if (plan.continueSignal === "auto_continue") {
      sink.write(enc.patch("response", "BATCH", [{ p: "accumulated_token_usage", v: usage }]));
      sink.write(enc.patch("response/auto_continue", "SET", true));
      tail(true, true);
    } else {
      sink.write(enc.patch("response", "BATCH", [{ p: "accumulated_token_usage", v: usage }, { p: "quasi_status", v: "INCOMPLETE" }]));
      const last = fragAt(m, 1);
      if (last?.type === "THINK" && last.elapsed_secs == null) sink.write(enc.patch("response/fragments/-1/elapsed_secs", "SET", 690.5));
      sink.write(enc.patch("response/status", "SET", "INCOMPLETE"));
      tail(true);
    }
    return "ended";
  }

  switch (plan.ending) {
    case "finished":
      sink.write(enc.patch("response", "BATCH", [{ p: "accumulated_token_usage", v: usage }, { p: "quasi_status", v: "FINISHED" }]));
      sink.write(enc.patch("response/status", "SET", "FINISHED"));
      for (const late of plan.lateResults) if (late.a === "patch") sink.write(enc.patch(late.p, late.o ?? "SET", late.v));
      tail(true);
      break;
    case "content_filter_observed":
      sink.write(enc.patch("response", "BATCH", [{ p: "accumulated_token_usage", v: usage }, { p: "quasi_status", v: "FINISHED" }]));
      sink.write(enc.comment());
      sink.write(enc.patch("response", "BATCH", filterBatch()));
      tail(false);
      break;
    case "content_filter_early":
      sink.write(enc.patch("response", "BATCH", [{ p: "accumulated_token_usage", v: usage }, ...filterBatch()]));
      tail(false);
      break;
    case "content_filter_code":
      tail(false);
      break;
  }
  return "ended";
}

function nextFragmentId(m: MessageModel): number {
  let max = 1;
  for (const f of m.fragments) if (f.id > max) max = f.id;
  return max + 1;
}
