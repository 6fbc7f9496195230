/**
 * Turns a ReplyScript into a flat list of stream actions for one assistant message, and cuts it into
 * rounds (completion + continues). Keeps the fragment model so continue rounds can replay a snapshot.
 */
import {
  chunkText, DEFAULT_TIP, TEMPLATE_REFUSAL,
  type ReplyContext, type ReplyScript, type SearchScript, type SimSource,
} from "./reply-script.ts";

export type Fragment = Record<string, unknown> & { id: number; type: string; content?: string | null };

export type Action =
  /** A new fragment: carried by the envelope when first in round 0, else `response/fragments` APPEND or a `response` BATCH. */
  | { a: "fragment"; frag: Fragment; via: "append" | "batch" }
  /** Several fragments appended in one `response` BATCH (tools). */
  | { a: "fragments"; frags: Fragment[] }
  | { a: "token"; text: string }
  | { a: "cite"; index: number; ref: { id: number; type: string } }
  /** A top-level patch; `fragKey` (with `fromEnd`) mirrors it into the model. */
  | { a: "patch"; p: string; o?: string; v: unknown; fromEnd?: number; fragKey?: string }
  | { a: "comment" }
  | { a: "raw"; data: unknown }
  | { a: "error"; data: unknown }
  | { a: "disconnect" }
  /** Write half an event, then end the body cleanly (no FINISHED). */
  | { a: "truncate" }
  | { a: "stall"; ms: number; keepaliveMs?: number };

export type Ending = "finished" | "content_filter_observed" | "content_filter_early" | "content_filter_code";

export interface MessagePlan {
  actions: Action[];
  /** Indices into `actions` where a continue round starts (each is a token action). */
  cuts: number[];
  ending: Ending;
  continueSignal: "incomplete" | "auto_continue";
  finishEvent: boolean;
  title: string | null;
  outputTokens?: number;
  tokenDelayMs: number;
  firstByteDelayMs: number;
  keepaliveEvery: number;
  lateResults: Action[];
}

const SIM_SOURCES: SimSource[] = [1, 2, 3].map((n) => ({
  url: `https://search.sim.test/result-${n}`,
  title: `Sim result ${n}`,
  snippet: `Snippet ${n}`,
  siteName: "sim",
}));

function resultObject(s: SimSource, i: number) {
  return {
    url: s.url, title: s.title ?? s.url, snippet: s.snippet ?? "", cite_index: null,
    published_at: 1775232000.0 + i, site_icon: "", site_name: s.siteName ?? "", query_indexes: [0],
  };
}

/** Splits a list into `n` parts, as evenly as possible (parts may be empty). */
function splitInto<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < n; i++) out.push(xs.slice(Math.floor((i * xs.length) / n), Math.floor(((i + 1) * xs.length) / n)));
  return out;
}

export function buildPlan(script: ReplyScript, ctx: ReplyContext): MessagePlan {
  const actions: Action[] = [];
  let nextId = 2;
  const thinkingTokens = ctx.thinkingEnabled ? chunkText(script.thinking, script.chunking) : [];
  let answerTokens = chunkText(script.answer, script.chunking);
  if (script.longLineBytes && script.longLineBytes > 0) {
    const mid = Math.floor(answerTokens.length / 2);
    answerTokens = [...answerTokens.slice(0, mid), "L".repeat(script.longLineBytes), ...answerTokens.slice(mid)];
  }
  if (script.contentFilter === "leaked" && answerTokens.length > 0) {
    const mid = Math.floor(answerTokens.length / 2);
    answerTokens = [...answerTokens.slice(0, mid), `${answerTokens[mid]}CONTENT_FILTER${TEMPLATE_REFUSAL}`];
  }
  if (script.contentFilter === "early") answerTokens = [];

  const pushText = (type: "THINK" | "RESPONSE", stage: number, tokens: string[], via: "append" | "batch") => {
    if (tokens.length === 0) return;
    const frag: Fragment =
      type === "THINK"
        ? { id: nextId++, type, content: tokens[0]!, elapsed_secs: null, references: [], stage_id: stage }
        : { id: nextId++, type, content: tokens[0]!, references: [], stage_id: stage };
    actions.push({ a: "fragment", frag, via });
    for (let i = 1; i < tokens.length; i++) actions.push({ a: "token", text: tokens[i]! });
  };
  const endThink = (tokens: string[], secs: number) => {
    if (tokens.length) actions.push({ a: "patch", p: "response/fragments/-1/elapsed_secs", o: "SET", v: secs, fromEnd: 1, fragKey: "elapsed_secs" });
  };

  const search: SearchScript | null = ctx.searchEnabled && script.search ? (script.search === true ? {} : script.search) : null;
  const lateResults: Action[] = [];
  let fragCount = 0; // fragments that exist so far, for -N paths
  const countFrag = () => fragCount++;

  if (!search) {
    pushText("THINK", 1, thinkingTokens, "append");
    if (thinkingTokens.length) countFrag();
    endThink(thinkingTokens, 1.25);
    if (answerTokens.length) {
      pushText("RESPONSE", 1, answerTokens, "append");
      countFrag();
    }
  } else {
    const queries = search.queries?.length ? search.queries : [ctx.lastUserText || "query"];
    const sources = search.sources?.length ? search.sources : SIM_SOURCES;
    const stages = thinkingTokens.length ? splitInto(thinkingTokens, 3) : [[], [], []];
    // Stage 1: think, then searches.
    pushText("THINK", 1, stages[0]!, "batch");
    if (stages[0]!.length) countFrag();
    endThink(stages[0]!, 1.43);
    actions.push({ a: "patch", p: "response/has_pending_fragment", o: "SET", v: true });
    actions.push({ a: "comment" });
    const searchFrags: Fragment[] = queries.map((q) => ({
      id: nextId++, type: "TOOL_SEARCH", status: "WIP", content: null, queries: [{ query: q }], results: [], stage_id: 1,
    }));
    actions.push({ a: "fragments", frags: searchFrags });
    fragCount += searchFrags.length;
    const perSearch = splitInto(sources.map(resultObject), searchFrags.length);
    for (let i = searchFrags.length - 1; i >= 0; i--) {
      const fromEnd = searchFrags.length - i;
      actions.push({ a: "patch", p: `response/fragments/-${fromEnd}/results`, o: "SET", v: perSearch[i], fromEnd, fragKey: "results" });
      actions.push({ a: "patch", p: `response/fragments/-${fromEnd}/status`, o: "SET", v: "FINISHED", fromEnd, fragKey: "status" });
    }
    // Stage 2: think, then open pages.
    if (stages[1]!.length) {
      actions.push({ a: "patch", p: "response/has_pending_fragment", o: "SET", v: true });
      pushText("THINK", 2, stages[1]!, "batch");
      countFrag();
      endThink(stages[1]!, 0.68);
    }
    actions.push({ a: "patch", p: "response/has_pending_fragment", o: "SET", v: true });
    const openFrags: Fragment[] = sources.slice(0, 3).map((s, i) => ({
      id: nextId++, type: "TOOL_OPEN", status: "WIP", result: resultObject(s, i),
      reference: { id: searchFrags[i % searchFrags.length]!.id, type: "TOOL_SEARCH" }, stage_id: 2,
    }));
    actions.push({ a: "fragments", frags: openFrags });
    fragCount += openFrags.length;
    for (let i = 0; i < openFrags.length; i++) {
      const fromEnd = openFrags.length - i;
      actions.push({ a: "patch", p: `response/fragments/-${fromEnd}/status`, o: "SET", v: "FINISHED", fromEnd, fragKey: "status" });
    }
    // Stage 3: think, answer with citations.
    if (stages[2]!.length) {
      actions.push({ a: "patch", p: "response/has_pending_fragment", o: "SET", v: true });
      pushText("THINK", 3, stages[2]!, "batch");
      countFrag();
      endThink(stages[2]!, 0.76);
    }
    if (answerTokens.length) {
      const wanted = Math.min(search.citations ?? 3, Math.max(0, answerTokens.length - 1));
      const start = actions.length;
      pushText("RESPONSE", 3, answerTokens, "append");
      countFrag();
      const refTargets = [...openFrags, ...searchFrags];
      // Insert citation batches after evenly spaced answer tokens (from the back so indices stay valid).
      const tokenIdx: number[] = [];
      for (let i = start + 1; i < actions.length; i++) if (actions[i]!.a === "token") tokenIdx.push(i);
      const at = wanted > 0 ? splitInto(tokenIdx, wanted).map((part) => part[part.length - 1]).filter((x): x is number => x !== undefined) : [];
      for (let c = at.length - 1; c >= 0; c--) {
        const t = refTargets[c % refTargets.length]!;
        actions.splice(at[c]! + 1, 0, { a: "cite", index: c, ref: { id: t.id, type: t.type } });
      }
    }
    if (search.lateResults !== false) {
      const late = { url: "https://search.sim.test/late", title: "Late result", snippet: "late" };
      const fromEnd = fragCount - (searchFrags.length - 1); // the first search fragment
      lateResults.push({ a: "patch", p: `response/fragments/-${fromEnd}/results`, o: "SET", v: [...(perSearch[0] ?? []), resultObject(late, 9)], fromEnd, fragKey: "results" });
    }
  }

  // Faults keyed to a token count.
  const insertAfterTokens = (n: number, act: Action) => {
    let seen = 0;
    for (let i = 0; i < actions.length; i++) {
      const x = actions[i]!;
      if (x.a === "token" || (x.a === "fragment" && typeof x.frag.content === "string")) seen++;
      if (seen >= n) {
        actions.splice(i + 1, 0, act);
        return;
      }
    }
    actions.push(act);
  };
  if (script.stall) insertAfterTokens(script.stall.afterTokens ?? 1, { a: "stall", ms: script.stall.ms, keepaliveMs: script.stall.keepaliveMs });
  if (script.error) {
    const e = script.error;
    const message = e.message ?? "internal error";
    insertAfterTokens(e.afterTokens ?? 1, { a: "error", data: e.shape === "object" ? { error: { message, code: "internal_error" } } : { error: message } });
  }
  if (script.disconnectAfterTokens !== undefined) insertAfterTokens(script.disconnectAfterTokens, { a: "disconnect" });
  if (script.truncateAfterTokens !== undefined) insertAfterTokens(script.truncateAfterTokens, { a: "truncate" });
  if (script.contentFilter === "code") insertAfterTokens(Math.max(1, Math.floor(answerTokens.length / 2) + thinkingTokens.length), { a: "raw", data: { code: "content_filter" } });

  if (script.tip !== null && script.contentFilter !== "early" && script.contentFilter !== "code") {
    actions.push({ a: "fragment", frag: { id: nextId++, type: "TIP", content: script.tip ?? DEFAULT_TIP, style: "WARNING", hide_on_wip: true }, via: "append" });
  }

  // Continue cuts: evenly spaced token actions (never the first action).
  const rounds = Math.max(0, Math.floor(script.continueRounds ?? 0));
  const tokenPositions: number[] = [];
  for (let i = 1; i < actions.length; i++) if (actions[i]!.a === "token") tokenPositions.push(i);
  const cuts: number[] = [];
  if (rounds > 0 && tokenPositions.length > 0) {
    for (let r = 1; r <= rounds; r++) {
      const pos = tokenPositions[Math.min(tokenPositions.length - 1, Math.floor((r * tokenPositions.length) / (rounds + 1)))]!;
      cuts.push(pos);
    }
  }

  const ending: Ending =
    script.contentFilter === "observed" || script.contentFilter === "leaked" ? "content_filter_observed"
      : script.contentFilter === "early" ? "content_filter_early"
        : script.contentFilter === "code" ? "content_filter_code" : "finished";
  const title = script.title === null ? null : script.title ?? (ctx.lastUserText.slice(0, 20) || "New chat");
  return {
    actions, cuts, ending, continueSignal: script.continueSignal ?? "incomplete",
    finishEvent: script.finishEvent ?? true, title, outputTokens: script.outputTokens,
    tokenDelayMs: script.tokenDelayMs ?? 0, firstByteDelayMs: script.firstByteDelayMs ?? 0,
    keepaliveEvery: script.keepaliveEvery ?? 0, lateResults,
  };
}
