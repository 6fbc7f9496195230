/**
 * What a scripted completion should look like. Tests hand these to `SimState.script(...)`;
 * everything not set falls back to a default reply that echoes the prompt.
 */
import type { InjectedError } from "./envelope.ts";
import { lastUserBlock } from "../core/prompt/markers.ts";

export interface SimSource {
  url: string;
  title?: string;
  snippet?: string;
  siteName?: string;
}

export interface SearchScript {
  /** One TOOL_SEARCH fragment per query (default: the last user text). */
  queries?: string[];
  /** Results spread over the searches; the first few are also opened as TOOL_OPEN (default: 3 sim URLs). */
  sources?: SimSource[];
  /** Number of `[reference:N]` BATCHes woven into the answer (default 3, capped by answer tokens). */
  citations?: number;
  /** Emit one more `results` SET after `response/status` FINISHED (default true). */
  lateResults?: boolean;
}

/** How strings are cut into tokens: explicit arrays are sent as they are. */
export type Chunking =
  /** Default: whitespace runs become their own tokens, other text is cut into 1–4 code point pieces at odd places. */
  | "odd"
  /** Fixed number of code points per token. */
  | number;

export interface ReplyScript {
  /** Reasoning text (only sent when the request has thinking_enabled). A string is chunked; an array is sent as tokens. */
  thinking?: string | string[];
  /** Answer text. `""` or `[]` gives no RESPONSE fragment at all (empty output). */
  answer?: string | string[];
  chunking?: Chunking;
  /** Web search stages (only when the request has search_enabled). `true` = defaults. */
  search?: SearchScript | boolean;
  /** TIP fragment text; `null` = no TIP. Default: the real disclaimer. */
  tip?: string | null;
  /** Title event on a session's first turn; `null` = none. Default: derived from the prompt. */
  title?: string | null;
  /** Send `event: finish` (default true; the 2026-04-29 captures have none). */
  finishEvent?: boolean;
  /** Moderation ending: "observed" (BATCH after quasi FINISHED), "early" (before any answer text),
   *  "code" (`{"code":"content_filter"}` frame), "leaked" (CONTENT_FILTER inside a token, then the observed ending). */
  contentFilter?: "observed" | "early" | "code" | "leaked";
  /** Cut the reply this many times; each cut needs one `chat/continue` (default 0). */
  continueRounds?: number;
  /** How a cut is signalled: status INCOMPLETE (default) or `auto_continue: true`. */
  continueSignal?: "incomplete" | "auto_continue";
  /** Final accumulated_token_usage (default: one per token sent). */
  outputTokens?: number;
  /** In-stream `{"error":…}` after this many tokens, then the stream closes. */
  error?: { afterTokens?: number; message?: string; shape?: "string" | "object" };
  /** Cut the TCP connection (no close event) after this many tokens. */
  disconnectAfterTokens?: number;
  /** Go silent after N tokens for `ms` (optionally sending `: ` keepalives every `keepaliveMs`). */
  stall?: { afterTokens?: number; ms: number; keepaliveMs?: number };
  /** Delay before the first body byte. */
  firstByteDelayMs?: number;
  /** Delay after every token frame. */
  tokenDelayMs?: number;
  /** A `: ` comment line every N token frames (default: never, besides the search stages). */
  keepaliveEvery?: number;
  /** Add one answer token of this many bytes (a very long single `data:` line). */
  longLineBytes?: number;
  /** Hold the response headers back this long (a dead upstream for the header timeout). */
  headerDelayMs?: number;
  /** Answer with a WAF / bot-challenge HTML page (Cloudflare "Just a moment…" or an Aliyun WAF block). */
  waf?: { status?: number; vendor?: "cloudflare" | "aliyun" };
  /** HTTP 200 text/event-stream whose body is garbage lines, not DeepSeek events (default lines if `true`). */
  malformed?: boolean | string[];
  /** HTTP 200 text/event-stream with an empty body. */
  emptyBody?: boolean;
  /** End the body cleanly after this many tokens, in the middle of an event, without FINISHED. */
  truncateAfterTokens?: number;
  /** Answer with this plain HTTP response (e.g. 503) instead of a stream. */
  http?: { status: number; body?: string; contentType?: string };
  /** Answer with HTTP 200 + a JSON envelope instead of SSE (how some rejections look). */
  envelope?: InjectedError;
  /** Serve captured SSE verbatim: a path to an `upstream.stream.sse` file or the text itself. Rounds (split at
   *  repeated `event: ready`) are served to completion, then to each continue. */
  replay?: { file?: string; text?: string; chunkBytes?: number };
}

/** What a resolver sees about one completion request. */
export interface ReplyContext {
  prompt: string;
  /** Text of the last user block of the prompt in any marker style (`<｜User｜>`, `<|User|>`, "User:"), or the whole prompt. */
  lastUserText: string;
  payload: Record<string, unknown>;
  accountId: string;
  accountLogin: string;
  sessionId: string;
  thinkingEnabled: boolean;
  searchEnabled: boolean;
  modelType: string;
  refFileIds: string[];
  /** The referenced files as this simulator holds them. */
  refFiles: { id: string; name: string; size: number; contentType: string }[];
  parentMessageId: number | null;
  /** 1-based count of completion requests this simulator has accepted. */
  completionNumber: number;
}

export type ReplyResolver = (ctx: ReplyContext) => ReplyScript | undefined | Promise<ReplyScript | undefined>;

export const DEFAULT_TIP = "本回答由 AI 生成，内容仅供参考，请仔细甄别。";
export const TEMPLATE_REFUSAL = "你好，这个问题我暂时无法回答，让我们换个话题再聊聊吧。";

/** The last user block of a prompt written with native, ASCII or plain role markers. */
export function lastUserText(prompt: string): string {
  return lastUserBlock(prompt);
}

/** The reply used when nothing is scripted: it shows which prompt arrived. */
export function defaultReply(ctx: ReplyContext): ReplyScript {
  return {
    thinking: `Thinking about: ${ctx.lastUserText}`,
    answer: `${describeRefFiles(ctx)}Echo: ${ctx.lastUserText}`,
  };
}

/** "I see an image named X of N bytes (model vision). " per attached image, "I read a file …" per document (the transcript left out). */
export function describeRefFiles(ctx: Pick<ReplyContext, "refFiles" | "modelType">): string {
  return ctx.refFiles
    .filter((f) => f.name !== "DS2API_HISTORY.txt")
    .map((f) => (f.contentType.startsWith("image/") ? `I see an image named ${f.name} of ${f.size} bytes (model ${ctx.modelType}). ` : `I read a file named ${f.name} of ${f.size} bytes. `))
    .join("");
}

/** A tool call in the markup the model emits (toolcalls.md canonical form), for replies that call tools. */
export function toolCallMarkup(name: string, params: Record<string, string>): string {
  let s = `<tool_calls>\n  <invoke name="${name}">\n`;
  for (const [k, v] of Object.entries(params)) s += `    <parameter name="${k}"><![CDATA[${v}]]></parameter>\n`;
  return s + "  </invoke>\n</tool_calls>";
}

const ODD_SIZES = [2, 1, 3, 2, 4, 1, 3];

/** Cuts text into tokens. Never drops or trims anything: joining the tokens gives the input back. */
export function chunkText(text: string | string[] | undefined, chunking: Chunking = "odd"): string[] {
  if (text === undefined) return [];
  if (Array.isArray(text)) return text.filter((t) => t.length > 0);
  const cps = Array.from(text);
  const out: string[] = [];
  if (typeof chunking === "number") {
    const n = Math.max(1, Math.floor(chunking));
    for (let i = 0; i < cps.length; i += n) out.push(cps.slice(i, i + n).join(""));
    return out;
  }
  let i = 0;
  let k = 0;
  while (i < cps.length) {
    if (/\s/u.test(cps[i]!)) {
      let j = i;
      while (j < cps.length && /\s/u.test(cps[j]!)) j++;
      out.push(cps.slice(i, j).join(""));
      i = j;
      continue;
    }
    let j = i;
    const size = ODD_SIZES[k++ % ODD_SIZES.length]!;
    while (j < cps.length && j - i < size && !/\s/u.test(cps[j]!)) j++;
    out.push(cps.slice(i, j).join(""));
    i = j;
  }
  return out;
}
