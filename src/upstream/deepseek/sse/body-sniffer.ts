/**
 * Detects a JSON envelope body (§1.2, §2.5 "Gotcha") where an SSE stream was expected, e.g.
 * `{"code":40003,"msg":"Authorization Failed (invalid token)","data":null}` with HTTP 200.
 * Looks at the first non-whitespace character; if it is `{`, the body text is kept (up to a cap) until
 * either an SSE frame shows up (then it was SSE after all and the copy is dropped) or the body ends.
 */

export interface EnvelopeError {
  code: number | string;
  msg: string;
  bizCode?: number;
  bizMsg?: string;
}

const MAX_KEPT_CHARS = 1 << 20;

type Mode = "unknown" | "json" | "sse";

export class JsonBodySniffer {
  private mode: Mode = "unknown";
  private readonly utf8 = new TextDecoder("utf-8");
  private kept: string[] = [];
  private keptChars = 0;

  get active(): boolean {
    return this.mode !== "sse";
  }

  /** Call for every raw chunk while `active`. */
  push(chunk: Uint8Array | string): void {
    if (this.mode === "sse") return;
    if (this.mode === "unknown") {
      const first = firstNonSpace(chunk);
      if (first === -1) return; // whitespace only, undecided
      if (first !== 0x7b /* { */) {
        this.mode = "sse";
        return;
      }
      this.mode = "json";
    }
    const text = typeof chunk === "string" ? chunk : this.utf8.decode(chunk, { stream: true });
    this.keptChars += text.length;
    if (this.keptChars > MAX_KEPT_CHARS) {
      this.giveUp();
      return;
    }
    this.kept.push(text);
  }

  /** An SSE frame was decoded: the body is a stream. */
  giveUp(): void {
    this.mode = "sse";
    this.kept = [];
    this.keptChars = 0;
  }

  /** At end of body: the envelope, if the body was a JSON object with a `code`. */
  finish(): EnvelopeError | undefined {
    if (this.mode !== "json") return undefined;
    const text = this.kept.join("") + this.utf8.decode();
    this.giveUp();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    return envelopeFromObject(body);
  }
}

/** Reads `{code,msg,data:{biz_code,biz_msg}}`; undefined when `code` is missing. */
export function envelopeFromObject(body: unknown): EnvelopeError | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.code !== "number" && typeof b.code !== "string") return undefined;
  const env: EnvelopeError = { code: b.code, msg: typeof b.msg === "string" ? b.msg : "" };
  const data = b.data;
  if (data !== null && typeof data === "object") {
    const d = data as Record<string, unknown>;
    if (typeof d.biz_code === "number") env.bizCode = d.biz_code;
    if (typeof d.biz_msg === "string") env.bizMsg = d.biz_msg;
  }
  return env;
}

function firstNonSpace(chunk: Uint8Array | string): number {
  if (typeof chunk === "string") {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) continue;
      return c;
    }
    return -1;
  }
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i]!;
    // whitespace, and the UTF-8 BOM bytes EF BB BF
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xef || c === 0xbb || c === 0xbf) continue;
    return c;
  }
  return -1;
}
