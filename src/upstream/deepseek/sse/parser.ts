/**
 * DeepSeek completion / continue stream → provider-neutral `DeepSeekEvent`s (protocol §4).
 *
 * Patch grammar (§4.3): top-level `p` and `o` are sticky; `BATCH` items have paths relative to the batch
 * path (an item path that already starts with `response/` is taken as absolute); negative indices count
 * from the end of the fragment list. The parser keeps only the state needed for routing: the fragment list
 * (id, type, and the search result / opened page of tool fragments), not the text itself.
 *
 * Routing (§4.9): strings appended to `…/fragments/<i>/content` go by the fragment's type: THINK →
 * `reasoning`, RESPONSE → `text`, TIP / TOOL_SEARCH / TOOL_OPEN / TEMPLATE_RESPONSE / unknown types →
 * nothing. Legacy `response/thinking_content` → reasoning, `response/content` → text; `{text}` /
 * `{content}` values are accepted. A piece with no fragment to go by (no fragment list, bare root value)
 * uses the "current channel": the type of the last THINK/RESPONSE fragment, initially reasoning when
 * thinking is enabled, else text.
 *
 * Thinking disabled: reasoning is still emitted as `reasoning` events. Whether it is shown is the
 * consumer's decision (the reference hides it but still scans it for tool calls).
 *
 * Text is never trimmed. The only edits: a leaked `CONTENT_FILTER` marker cuts its piece (§4.12), and in
 * reasoning a `</think>` sends the rest (and later reasoning of the same fragment) to the answer, with
 * stray `<think>`/`</think>` tags removed.
 *
 * Stops: `status` FINISHED (not `quasi_status`) ends text, but sources and citations are still read
 * (they may arrive late). Content filter (status/quasi_status CONTENT_FILTER anywhere, a
 * TEMPLATE_RESPONSE fragment, or `{"code":"content_filter"}`) emits `content_filter` once and everything
 * after it is ignored, including the rest of the same batch. An in-stream `{"error":…}` emits `error`
 * and ends processing.
 *
 * Citations: a `[reference:N]` / `[citation:N]` marker appended in a BATCH that also sets
 * `references:[{id,type}]` yields a `citation` event linked to that fragment's source (TOOL_OPEN →
 * `result`, TOOL_SEARCH → its first result). Markers without a link use the index heuristic (§4.10).
 * Markers are detected within one piece; a marker split across pieces gets no `citation` event (the
 * text still carries it; `core/citations.ts` works on the text).
 *
 * `sources` events carry only the sources that are new since the previous `sources` event.
 */

import type { DeepSeekEvent, SearchSource } from "../events.ts";
import { JsonBodySniffer, envelopeFromObject, type EnvelopeError } from "./body-sniffer.ts";
import { findCitationMarkers, mayContainMarker, type CitationMarker } from "./citation-markers.ts";
import { SseLineDecoder, type SseFrame } from "./line-decoder.ts";
import { SourceRegistry } from "./source-registry.ts";
import { cutLeakedContentFilter, splitAtThinkClose, stripThinkTags } from "./text-guards.ts";

export type { SseFrame } from "./line-decoder.ts";
export type { EnvelopeError } from "./body-sniffer.ts";

export type Channel = "reasoning" | "text";

export interface DeepSeekStreamParserOptions {
  thinkingEnabled: boolean;
  searchEnabled?: boolean;
}

export interface DeepSeekStreamState {
  requestMessageId?: number;
  responseMessageId?: number;
  modelType?: string;
  /** Last status of this round (§4.14): status / quasi_status / envelope status, `AUTO_CONTINUE` for auto_continue:true. */
  lastStatus?: string;
  /** FINISHED or CONTENT_FILTER was seen (status or quasi_status). */
  finished: boolean;
  contentFiltered: boolean;
  /** Latest `accumulated_token_usage` (carried over across continue rounds). */
  outputTokens?: number;
  /** At least one SSE frame was decoded in this round. */
  sawAnyFrame: boolean;
  /** The body (or a data frame) was a JSON error envelope instead of a stream. */
  envelopeError?: EnvelopeError;
  /** Message of an in-stream `{"error":…}` frame. */
  error?: string;
  /** Channel for pieces that have no fragment to go by. */
  currentChannel: Channel;
  title?: string;
}

interface FragmentRec {
  id?: number;
  type?: string;
  /** TOOL_OPEN: the opened page. */
  result?: SearchSource;
  /** TOOL_SEARCH: its results. */
  results?: SearchSource[];
}

interface RefLink {
  id: number;
  type?: string;
}

type Json = Record<string, unknown>;

const NO_SEGS: readonly string[] = [];

function isObj(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A BATCH value: an array of `{p, …}` patch objects (fragment / result arrays never carry `p`). */
function isPatchList(v: unknown): v is Json[] {
  if (!Array.isArray(v) || v.length === 0) return false;
  const first = v[0];
  return isObj(first) && typeof first.p === "string";
}

function splitPath(p: string): string[] {
  return p === "" ? [] : p.split("/");
}

function textOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isObj(v)) {
    if (typeof v.text === "string") return v.text;
    if (typeof v.content === "string") return v.content;
  }
  return undefined;
}

function errorMessage(e: unknown): string {
  if (typeof e === "string") return e;
  if (isObj(e) && typeof e.message === "string") return e.message;
  return JSON.stringify(e);
}

export class DeepSeekStreamParser {
  readonly state: DeepSeekStreamState;
  private readonly opts: DeepSeekStreamParserOptions;
  private decoder = new SseLineDecoder();
  private sniffer = new JsonBodySniffer();
  private readonly sources = new SourceRegistry();

  private out: DeepSeekEvent[] = [];
  private stickyPath: string | undefined;
  private stickySegs: readonly string[] = NO_SEGS;
  private stickyOp: string | undefined;

  private fragments: FragmentRec[] = [];
  private readonly fragmentsById = new Map<number, FragmentRec>();
  /** `</think>` seen in the current reasoning stream: later reasoning pieces are answer text. */
  private thinkClosed = false;
  /** status FINISHED: no more text (metadata still read). */
  private textClosed = false;
  /** Content filter or error: ignore everything. */
  private stopped = false;

  private batchDepth = 0;
  private batchMarkers: CitationMarker[] = [];
  private batchRefs: RefLink[] = [];

  constructor(opts: DeepSeekStreamParserOptions) {
    this.opts = opts;
    this.state = {
      finished: false,
      contentFiltered: false,
      sawAnyFrame: false,
      currentChannel: opts.thinkingEnabled ? "reasoning" : "text",
    };
  }

  /** All sources seen so far (deduplicated, in order). */
  get allSources(): readonly SearchSource[] {
    return this.sources.all;
  }

  push(chunk: Uint8Array | string): DeepSeekEvent[] {
    if (this.sniffer.active) this.sniffer.push(chunk);
    const frames = this.decoder.push(chunk);
    const out: DeepSeekEvent[] = (this.out = []);
    for (let i = 0; i < frames.length; i++) this.frame(frames[i]!);
    this.out = [];
    return out;
  }

  end(): DeepSeekEvent[] {
    const frames = this.decoder.end();
    const out: DeepSeekEvent[] = (this.out = []);
    for (let i = 0; i < frames.length; i++) this.frame(frames[i]!);
    if (!this.state.sawAnyFrame) {
      const env = this.sniffer.finish();
      if (env) this.envelopeError(env);
    }
    this.out = [];
    return out;
  }

  /** Lower level: one decoded SSE frame. */
  handleFrame(frame: SseFrame): DeepSeekEvent[] {
    const out: DeepSeekEvent[] = (this.out = []);
    this.frame(frame);
    this.out = [];
    return out;
  }

  /**
   * Prepares for the body of a `chat/continue` call (§4.14): resets the per-round status, sticky
   * patch state, the fragment list (the continue envelope brings a full snapshot) and the SSE decoder.
   * Message ids, sources seen and token usage are kept. Pair with `ContinueDedupe` for the snapshot text.
   */
  beginContinueRound(): void {
    this.decoder = new SseLineDecoder();
    this.sniffer = new JsonBodySniffer();
    this.state.lastStatus = undefined;
    this.state.finished = false;
    this.state.sawAnyFrame = false;
    this.state.envelopeError = undefined;
    this.stickyPath = undefined;
    this.stickySegs = NO_SEGS;
    this.stickyOp = undefined;
    this.fragments = [];
    this.thinkClosed = false;
    this.textClosed = false;
    if (!this.state.contentFiltered && this.state.error === undefined) this.stopped = false;
  }

  // ---- frames -------------------------------------------------------------------------------

  private frame(frame: SseFrame): void {
    if (!this.state.sawAnyFrame) {
      this.state.sawAnyFrame = true;
      if (this.sniffer.active) this.sniffer.giveUp();
    }
    switch (frame.event) {
      case "message":
        this.message(frame.data);
        break;
      case "ready":
        this.ready(frame.data);
        break;
      case "title":
        this.title(frame.data);
        break;
      case "error":
        this.errorFrame(frame.data);
        break;
      default:
        // update_session, finish, close and unknown events carry nothing we need.
        break;
    }
    if (this.sources.hasNew()) this.out.push({ type: "sources", sources: this.sources.takeNew() });
  }

  private parseJson(data: string): Json | undefined {
    if (data.length === 0 || data.charCodeAt(0) !== 123 /* { */) return undefined; // also skips [DONE]
    try {
      const v: unknown = JSON.parse(data);
      return isObj(v) ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private ready(data: string): void {
    const obj = this.parseJson(data);
    if (!obj) return;
    const ev: DeepSeekEvent & { type: "ready" } = { type: "ready" };
    if (typeof obj.request_message_id === "number") ev.requestMessageId = this.state.requestMessageId = obj.request_message_id;
    if (typeof obj.response_message_id === "number") ev.responseMessageId = this.state.responseMessageId = obj.response_message_id;
    if (typeof obj.model_type === "string") ev.modelType = this.state.modelType = obj.model_type;
    this.out.push(ev);
  }

  private title(data: string): void {
    const obj = this.parseJson(data);
    if (!obj || typeof obj.content !== "string") return;
    this.state.title = obj.content;
    this.out.push({ type: "title", title: obj.content });
  }

  private errorFrame(data: string): void {
    const obj = this.parseJson(data);
    if (obj && obj.error !== undefined) this.inStreamError(obj.error);
    else if (obj) this.inStreamError(obj);
    else if (data.length > 0) this.inStreamError(data);
  }

  private message(data: string): void {
    if (this.stopped) return;
    const obj = this.parseJson(data);
    if (!obj) return;
    const v = obj.v;
    // Fast path: the bulk of the stream is `{"v":"token"}` continuing the sticky path.
    if (typeof v === "string" && obj.p === undefined && obj.o === undefined) {
      this.apply(this.stickySegs, this.stickyOp, v, false, this.stickyPath === undefined);
      return;
    }
    if (obj.error !== undefined) return this.inStreamError(obj.error);
    const code = obj.code;
    if (code === "content_filter") return this.contentFilter();
    if (code !== undefined && v === undefined && obj.p === undefined) {
      const env = envelopeFromObject(obj);
      if (env && env.code !== 0 && env.code !== "0") return this.envelopeError(env);
    }
    if (typeof obj.response_message_id === "number" && this.state.responseMessageId === undefined) {
      this.state.responseMessageId = obj.response_message_id;
      this.out.push({ type: "ready", responseMessageId: obj.response_message_id });
    }
    if (isObj(obj.message) && isObj(obj.message.response)) return this.envelope(obj.message.response);
    if (v === undefined) {
      if (isObj(obj.response)) this.envelope(obj.response);
      return;
    }
    if (typeof obj.p !== "string" && isObj(v) && isObj(v.response)) return this.envelope(v.response);

    if (typeof obj.p === "string") {
      if (obj.p !== this.stickyPath) {
        this.stickyPath = obj.p;
        this.stickySegs = splitPath(obj.p);
      }
    }
    if (typeof obj.o === "string") this.stickyOp = obj.o;
    this.apply(this.stickySegs, this.stickyOp, v, false, this.stickyPath === undefined);
  }

  // ---- patches ------------------------------------------------------------------------------

  /** `rootless`: a bare value before any path was ever given (legacy / reference compatibility). */
  private apply(segs: readonly string[], op: string | undefined, v: unknown, snapshot: boolean, rootless = false): void {
    if (this.stopped) return;
    if (isPatchList(v)) return this.batch(segs, v);
    if (segs.length === 0) return this.root(v, rootless);
    const start = segs[0] === "response" ? 1 : 0;
    this.responseField(segs, start, op, v, snapshot);
  }

  private batch(base: readonly string[], items: Json[]): void {
    this.batchDepth++;
    try {
      for (const item of items) {
        if (this.stopped) break;
        if (!isObj(item) || !("v" in item)) continue;
        const rel = typeof item.p === "string" ? item.p : "";
        let segs: readonly string[];
        if (rel === "") segs = base;
        else if (rel === "response" || rel.startsWith("response/")) segs = splitPath(rel);
        else segs = base.length === 0 ? splitPath(rel) : base.concat(splitPath(rel));
        this.apply(segs, typeof item.o === "string" ? item.o : undefined, item.v, false);
      }
    } finally {
      this.batchDepth--;
    }
    if (this.batchDepth === 0) this.flushBatchCitations();
  }

  private root(v: unknown, rootless: boolean): void {
    if (isObj(v)) {
      if (isObj(v.response)) this.envelope(v.response);
      return;
    }
    if (typeof v !== "string") return;
    if (rootless && v === "FINISHED") return this.status(v, false);
    this.emit(this.state.currentChannel, v, false);
  }

  /** `segs[i]` is a key below `response`. */
  private responseField(segs: readonly string[], i: number, op: string | undefined, v: unknown, snapshot: boolean): void {
    if (i >= segs.length) {
      if (isObj(v)) this.envelope(v);
      return;
    }
    const key = segs[i]!;
    const last = i === segs.length - 1;
    switch (key) {
      case "fragments":
        if (last) {
          if (Array.isArray(v)) {
            if (op === "SET" && this.batchDepth === 0) this.fragments = [];
            this.addFragments(v, snapshot);
          } else if (isObj(v)) {
            this.addFragments([v], snapshot);
          }
          return;
        }
        return this.fragmentField(this.fragmentAt(segs[i + 1]!), segs, i + 2, op, v, snapshot);
      case "content":
        if (last) this.emitText("text", v, snapshot);
        return;
      case "thinking_content":
        if (last) this.emitText("reasoning", v, snapshot);
        return;
      case "status":
        if (last && typeof v === "string") this.status(v, false);
        return;
      case "quasi_status":
        if (last && typeof v === "string") this.status(v, true);
        return;
      case "auto_continue":
        if (last && v === true) this.autoContinue();
        return;
      case "accumulated_token_usage":
        if (last && typeof v === "number") this.usage(v);
        return;
      case "message_id":
        if (last && typeof v === "number" && this.state.responseMessageId === undefined) this.state.responseMessageId = v;
        return;
      case "results":
      case "search_results":
        this.sources.addAll(v);
        return;
      default:
        // has_pending_fragment, ban_regenerate, search_status, conversation_mode, … : nothing to do.
        return;
    }
  }

  private fragmentAt(idx: string): FragmentRec | undefined {
    const n = Number(idx);
    if (!Number.isInteger(n)) return undefined;
    const list = this.fragments;
    return n < 0 ? list[list.length + n] : list[n];
  }

  /** `segs[i]` is a key below a fragment (`segs.length === i` means the fragment itself). */
  private fragmentField(
    frag: FragmentRec | undefined,
    segs: readonly string[],
    i: number,
    op: string | undefined,
    v: unknown,
    snapshot: boolean,
  ): void {
    if (i >= segs.length) return; // SET of a whole fragment: not seen; ignored.
    if (i !== segs.length - 1) return;
    switch (segs[i]) {
      case "content": {
        const s = textOf(v);
        if (s === undefined) return;
        const channel = frag ? this.channelOfType(frag.type) : this.state.currentChannel;
        if (channel) this.emit(channel, s, snapshot);
        return;
      }
      case "results": {
        const found = this.sources.addAll(v);
        if (frag) frag.results = op === "APPEND" && frag.results ? frag.results.concat(found) : found;
        return;
      }
      case "result": {
        const s = this.sources.add(v);
        if (frag && s) frag.result = s;
        return;
      }
      case "references":
        this.noteReferences(v);
        return;
      default:
        return; // status (per-fragment), elapsed_secs, …
    }
  }

  private channelOfType(type: string | undefined): Channel | undefined {
    if (type === "THINK") return "reasoning";
    if (type === "RESPONSE") return "text";
    if (type === undefined) return this.state.currentChannel;
    return undefined;
  }

  private addFragments(list: unknown[], snapshot: boolean): void {
    this.batchDepth++;
    try {
      for (const f of list) {
        if (this.stopped) break;
        if (!isObj(f)) continue;
        const rec: FragmentRec = {};
        if (typeof f.id === "number") {
          rec.id = f.id;
          this.fragmentsById.set(f.id, rec);
        }
        if (typeof f.type === "string") rec.type = f.type;
        this.fragments.push(rec);
        if (rec.type === "TEMPLATE_RESPONSE") {
          this.contentFilter();
          break;
        }
        if (rec.type === "THINK") {
          this.state.currentChannel = "reasoning";
          this.thinkClosed = false;
        } else if (rec.type === "RESPONSE") {
          this.state.currentChannel = "text";
        }
        if (Array.isArray(f.results)) rec.results = this.sources.addAll(f.results);
        if (isObj(f.result)) rec.result = this.sources.add(f.result);
        const content = textOf(f.content);
        if (content !== undefined) {
          const channel = this.channelOfType(rec.type);
          if (channel) this.emit(channel, content, snapshot);
        }
        if (Array.isArray(f.references) && f.references.length > 0) this.noteReferences(f.references);
      }
    } finally {
      this.batchDepth--;
    }
    if (this.batchDepth === 0) this.flushBatchCitations();
  }

  private envelope(resp: Json): void {
    if (typeof resp.message_id === "number" && this.state.responseMessageId === undefined) {
      this.state.responseMessageId = resp.message_id;
      const ev: DeepSeekEvent & { type: "ready" } = { type: "ready", responseMessageId: resp.message_id };
      if (typeof resp.parent_id === "number" && this.state.requestMessageId === undefined) {
        ev.requestMessageId = this.state.requestMessageId = resp.parent_id;
      }
      this.out.push(ev);
    }
    if (resp.status === "CONTENT_FILTER" || resp.quasi_status === "CONTENT_FILTER") return this.contentFilter();
    if (typeof resp.accumulated_token_usage === "number") this.usage(resp.accumulated_token_usage);
    if (Array.isArray(resp.fragments)) {
      this.fragments = [];
      this.addFragments(resp.fragments, true);
    }
    if (resp.thinking_content !== undefined) this.emitText("reasoning", resp.thinking_content, true);
    if (resp.content !== undefined) this.emitText("text", resp.content, true);
    if (typeof resp.status === "string") this.status(resp.status, false);
    if (typeof resp.quasi_status === "string") this.status(resp.quasi_status, true);
    if (resp.auto_continue === true) this.autoContinue();
  }

  // ---- outcomes -----------------------------------------------------------------------------

  private emitText(channel: Channel, v: unknown, snapshot: boolean): void {
    const s = textOf(v);
    if (s !== undefined) this.emit(channel, s, snapshot);
  }

  private emit(channel: Channel, piece: string, snapshot: boolean): void {
    if (this.textClosed || this.stopped || piece.length === 0) return;
    let text = cutLeakedContentFilter(piece);
    if (text.length === 0) return;
    if (channel === "reasoning") {
      if (this.thinkClosed) {
        channel = "text";
        text = stripThinkTags(text);
      } else {
        const split = splitAtThinkClose(text);
        if (split) {
          this.thinkClosed = true;
          if (split.before.length > 0) this.pushPiece("reasoning", split.before, snapshot);
          if (split.after.length > 0) this.pushPiece("text", split.after, snapshot);
          return;
        }
        text = stripThinkTags(text);
      }
      if (text.length === 0) return;
    }
    this.pushPiece(channel, text, snapshot);
  }

  private pushPiece(channel: Channel, text: string, snapshot: boolean): void {
    if (snapshot) this.out.push({ type: channel, text, snapshot: true });
    else this.out.push({ type: channel, text });
    if (channel === "text" && mayContainMarker(text)) {
      for (const m of findCitationMarkers(text)) {
        this.sources.noteMarker(m.kind, m.index);
        if (this.batchDepth > 0) this.batchMarkers.push(m);
        else this.citation(m, undefined);
      }
    }
  }

  private noteReferences(v: unknown): void {
    if (!Array.isArray(v)) return;
    for (const r of v) {
      if (isObj(r) && typeof r.id === "number") {
        this.batchRefs.push(typeof r.type === "string" ? { id: r.id, type: r.type } : { id: r.id });
      }
    }
  }

  private flushBatchCitations(): void {
    const markers = this.batchMarkers;
    const refs = this.batchRefs;
    if (markers.length === 0) {
      if (refs.length > 0) this.batchRefs = [];
      return;
    }
    this.batchMarkers = [];
    this.batchRefs = [];
    for (let k = 0; k < markers.length; k++) {
      const ref = refs.length === 0 ? undefined : (refs[k] ?? refs[refs.length - 1]);
      this.citation(markers[k]!, ref);
    }
  }

  private citation(m: CitationMarker, ref: RefLink | undefined): void {
    let source: SearchSource | undefined;
    if (ref) {
      const frag = this.fragmentsById.get(ref.id);
      if (frag) source = frag.result ?? frag.results?.[0];
    }
    source ??= this.sources.guess(m.kind, m.index);
    if (this.sources.hasNew()) this.out.push({ type: "sources", sources: this.sources.takeNew() });
    if (source) this.out.push({ type: "citation", marker: m.marker, index: m.index, source });
    else this.out.push({ type: "citation", marker: m.marker, index: m.index });
  }

  private status(value: string, quasi: boolean): void {
    if (value === "CONTENT_FILTER") return this.contentFilter();
    this.state.lastStatus = value;
    this.out.push(quasi ? { type: "status", status: value, quasi: true } : { type: "status", status: value });
    if (value === "FINISHED") {
      this.state.finished = true;
      if (!quasi) this.textClosed = true;
    }
  }

  private autoContinue(): void {
    this.state.lastStatus = "AUTO_CONTINUE";
    this.out.push({ type: "status", status: "AUTO_CONTINUE" });
  }

  private usage(n: number): void {
    if (!Number.isFinite(n) || n === this.state.outputTokens) return;
    const first = this.state.outputTokens === undefined;
    this.state.outputTokens = n;
    if (!(first && n === 0)) this.out.push({ type: "usage", outputTokens: n });
  }

  private contentFilter(): void {
    if (this.state.contentFiltered) return;
    this.state.contentFiltered = true;
    this.state.finished = true;
    this.state.lastStatus = "CONTENT_FILTER";
    this.textClosed = true;
    this.stopped = true;
    this.batchMarkers = [];
    this.batchRefs = [];
    this.out.push({ type: "status", status: "CONTENT_FILTER" });
    this.out.push({ type: "content_filter" });
  }

  private inStreamError(e: unknown): void {
    const message = errorMessage(e);
    this.state.error = message;
    this.stopped = true;
    this.out.push({ type: "error", message });
  }

  private envelopeError(env: EnvelopeError): void {
    this.state.envelopeError = env;
    if (env.code === 0 && (env.bizCode === undefined || env.bizCode === 0)) return;
    this.stopped = true;
    const message = env.bizMsg || env.msg || `upstream error ${String(env.code)}`;
    this.out.push({ type: "error", message, code: env.code });
  }
}
