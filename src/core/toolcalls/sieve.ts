/**
 * The streaming sieve (toolcalls.md §3, redesigned): visible text in, text and complete tool-call
 * groups out, in order.
 *
 * - Prose is scanned once, left to right, with a little markdown state: fenced blocks, inline code
 *   spans, HTML comments and CDATA. Tool markup inside those is an example, not a call. When such a
 *   region never closes, its content is re-read as prose at the end, so an unclosed fence or comment
 *   does not hide a later real call; while a region holds tool markup that text waits.
 * - An opening wrapper (or a bare `<invoke>`, for the missing-wrapper repair) starts a capture that
 *   `BlockScan` follows incrementally; a complete block is parsed once. Accepted blocks become a
 *   `tool_calls` output; rejected ones are released as text.
 * - Only a possible tag start at the end of the buffer is held back (`<`, `<|DS`, `<tool_`, `<｜`…).
 * - The stream ending inside a capture yields `incomplete_call` with the raw text.
 * - With `markRejected` (the reasoning channel), a complete block that gives no valid call comes out as
 *   `rejected_call` instead of text, so a caller can keep its markup out of what it shows.
 */
import { BlockScan, type BlockKind, type BlockLevel } from "./block-scan.ts";
import { parseBlock } from "./block-parse.ts";
import { PARTIAL, matchToolTag, type ToolTag } from "./tags.ts";
import type { SieveOutput, ToolSpec } from "./types.ts";

type Region = "" | "comment" | "cdata";

/** What closes each region in prose. */
const REGION_END = { comment: "-->", cdata: "]]>" } as const;

const COMMENT_OPEN = "<!--";
const CDATA_OPEN = "<![CDATA[";

/** 1 = s has `word` at i, 0 = not, -1 = s ends inside a match. */
function prefixAt(s: string, i: number, word: string): 1 | 0 | -1 {
  const avail = s.length - i;
  if (avail >= word.length) return s.startsWith(word, i) ? 1 : 0;
  return word.startsWith(s.slice(i)) ? -1 : 0;
}

function isHSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r";
}

function isWs(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

export class ToolCallSieve {
  private buf = "";
  private pos = 0;
  private mode: "prose" | "capture" | "post" = "prose";
  private out: SieveOutput[] = [];

  // Prose state.
  private lineStart: boolean;
  private fenceCh = "";
  private fenceLen = 0;
  private ticks = 0;
  private region: Region = "";
  /** Start of tool markup seen inside a region (-1 when none); text from here waits for the region to resolve. */
  private hold = -1;
  private holdLineStart = false;

  // Capture state.
  private capStart = 0;
  private capTag: ToolTag | null = null;
  private capKind: BlockKind = "wrapper";
  private scan: BlockScan | null = null;
  /**
   * Capture text already scanned and dropped from the front of `buf`, so a long block is not
   * re-flattened on every push; joined back once the block resolves.
   */
  private capHead: string[] = [];

  private readonly tools: readonly ToolSpec[];
  private readonly markRejected: boolean;

  constructor(tools: readonly ToolSpec[], opts: { atLineStart?: boolean; markRejected?: boolean } = {}) {
    this.tools = tools;
    this.lineStart = opts.atLineStart ?? true;
    this.markRejected = opts.markRejected ?? false;
  }

  push(delta: string): SieveOutput[] {
    if (delta) {
      this.buf += delta;
      this.run(false);
    }
    return this.take();
  }

  end(): SieveOutput[] {
    this.run(true);
    this.emitText(this.buf.length);
    return this.take();
  }

  private take(): SieveOutput[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private run(final: boolean): void {
    for (;;) {
      if (this.mode === "capture") {
        if (!this.stepCapture(final)) break;
      } else if (this.mode === "post") {
        if (!this.stepPost(final)) break;
      } else {
        if (this.scanProse(final)) continue;
        if (final && this.hold >= 0) {
          // The region never closed: its content was prose after all.
          this.pos = this.hold;
          this.lineStart = this.holdLineStart;
          this.hold = -1;
          this.fenceCh = "";
          this.ticks = 0;
          this.region = "";
          continue;
        }
        break;
      }
    }
    if (this.mode === "capture") this.emitText(this.capStart);
    else if (this.mode === "prose") this.emitText(this.hold >= 0 ? Math.min(this.hold, this.pos) : this.pos);
  }

  // ---- output ----

  private emitText(upTo: number): void {
    if (upTo <= 0) return;
    this.pushText(this.buf.slice(0, upTo));
    this.cut(upTo);
  }

  private pushText(text: string): void {
    if (!text) return;
    const last = this.out[this.out.length - 1];
    if (last && last.type === "text") last.text += text;
    else this.out.push({ type: "text", text });
  }

  private cut(k: number): void {
    this.buf = this.buf.slice(k);
    this.pos -= k;
    this.capStart -= k;
    if (this.hold >= 0) this.hold -= k;
  }

  // ---- prose ----

  /** Scan prose from `pos`. True when a capture started; false when waiting or at the end. */
  private scanProse(final: boolean): boolean {
    const s = this.buf;
    const n = s.length;
    let i = this.pos;
    while (i < n) {
      const c = s[i]!;
      if (this.fenceCh) {
        if (this.lineStart && !isHSpace(c) && c !== "\n") {
          const r = this.fenceCloser(s, i, final);
          if (r === -1) break;
          if (r > 0) {
            this.fenceCh = "";
            this.releaseHold();
            i = r;
            this.lineStart = false;
            continue;
          }
        }
      } else if (!this.region && this.ticks === 0 && (c === "`" || c === "~")) {
        let j = i;
        while (j < n && s[j] === c) j++;
        if (j >= n && !final) break;
        const run = j - i;
        if (this.lineStart && run >= 3) {
          this.fenceCh = c;
          this.fenceLen = run;
        } else if (c === "`") this.ticks = run;
        this.lineStart = false;
        i = j;
        continue;
      } else if (this.ticks > 0) {
        if (c === "`") {
          let j = i;
          while (j < n && s[j] === "`") j++;
          if (j >= n && !final) break;
          if (j - i === this.ticks) {
            this.ticks = 0;
            this.releaseHold();
          }
          i = j;
          continue;
        }
        if (c === "\n") {
          // A code span does not cross lines here: the backticks were literal.
          this.ticks = 0;
          if (this.hold >= 0) {
            i = this.hold;
            this.lineStart = this.holdLineStart;
            this.hold = -1;
            continue;
          }
        }
      } else if (this.region !== "") {
        const end = REGION_END[this.region];
        if (c === end[0]) {
          const m = prefixAt(s, i, end);
          if (m === -1 && !final) break;
          if (m === 1) {
            this.region = "";
            this.releaseHold();
            i += end.length;
            this.lineStart = false;
            continue;
          }
        }
      }
      if (c === "<") {
        const inRegion = this.fenceCh !== "" || this.ticks > 0 || this.region !== "";
        const tag = matchToolTag(s, i, final);
        if (tag === PARTIAL) {
          if (!inRegion || this.hold < 0) break;
        } else if (tag && !tag.closing && !tag.selfClosing && tag.name !== "parameter") {
          if (inRegion) {
            if (this.hold < 0) {
              this.hold = i;
              this.holdLineStart = this.lineStart;
            }
          } else {
            this.pos = i;
            this.startCapture(i, tag);
            return true;
          }
          this.lineStart = false;
          i = tag.end;
          continue;
        } else if (tag) {
          this.lineStart = false;
          i = tag.end;
          continue;
        }
        if (!inRegion) {
          const com = prefixAt(s, i, COMMENT_OPEN);
          const cd = prefixAt(s, i, CDATA_OPEN);
          if ((com === -1 || cd === -1) && !final) break;
          if (com === 1 || cd === 1) {
            this.region = com === 1 ? "comment" : "cdata";
            this.lineStart = false;
            i += com === 1 ? COMMENT_OPEN.length : CDATA_OPEN.length;
            continue;
          }
        }
      }
      if (c === "\n") this.lineStart = true;
      else if (!isHSpace(c)) this.lineStart = false;
      i++;
    }
    this.pos = i;
    return false;
  }

  /** At a fenced line's first non-blank character: index after a closing line, 0 if not one, -1 to wait. */
  private fenceCloser(s: string, i: number, final: boolean): number {
    const n = s.length;
    let j = i;
    while (j < n && s[j] === this.fenceCh) j++;
    if (j >= n && !final) return -1;
    if (j - i < this.fenceLen) return 0;
    while (j < n && isHSpace(s[j]!)) j++;
    if (j >= n) return final ? j : -1;
    return s[j] === "\n" ? j : 0;
  }

  private releaseHold(): void {
    this.hold = -1;
  }

  // ---- capture ----

  private startCapture(at: number, tag: ToolTag): void {
    // Release the prose before the tag now, so the capture always starts at index 0 of the buffer
    // and the block scanner's indices stay valid while the buffer grows.
    this.emitText(at);
    this.mode = "capture";
    this.capStart = 0;
    this.capTag = { ...tag, end: tag.end - at };
    this.capKind = tag.name === "tool_calls" ? "wrapper" : "bare";
    this.scan = new BlockScan(this.capKind, this.capTag, 0);
  }

  /** True to keep looping. */
  private stepCapture(final: boolean): boolean {
    const r = this.scan!.advance(this.buf, final);
    if (r.status === "more") {
      const shift = this.scan!.needFrom;
      if (shift > 4096) {
        this.capHead.push(this.buf.slice(0, shift));
        this.buf = this.buf.slice(shift);
        this.scan!.rebase(shift);
      }
      return false;
    }
    const headLen = this.restoreCapture();
    if (r.status === "fail") {
      this.backToProse(this.capTag!.end);
      return true;
    }
    if (r.status === "done") {
      const end = r.end + headLen;
      if (!this.acceptBlock(end, 0)) this.rejectBlock(end);
      return true;
    }
    // The stream ended inside the capture: salvage with looser CDATA rules, else look for a real
    // block after the opening tag, else report the raw text as an incomplete call.
    for (const level of [1, 2, 3] as BlockLevel[]) {
      const again = new BlockScan(this.capKind, this.capTag!, level).advance(this.buf, true);
      if (again.status === "done" && this.acceptBlock(again.end, level)) return true;
    }
    const tagEnd = this.capTag!.end;
    const inner = new ToolCallSieve(this.tools, { atLineStart: false, markRejected: this.markRejected });
    const rest = [...inner.push(this.buf.slice(tagEnd)), ...inner.end()];
    if (rest.some((o) => o.type === "tool_calls")) {
      this.pushText(this.buf.slice(0, tagEnd));
      for (const o of rest) {
        if (o.type === "text") this.pushText(o.text);
        else this.out.push(o);
      }
    } else {
      this.out.push({ type: "incomplete_call", text: this.buf });
    }
    this.buf = "";
    this.pos = 0;
    this.scan = null;
    this.mode = "prose";
    return false;
  }

  /** Rejoin dropped capture text into `buf`; returns how many characters were rejoined. */
  private restoreCapture(): number {
    if (!this.capHead.length) return 0;
    const head = this.capHead.join("");
    this.capHead = [];
    this.buf = head + this.buf;
    return head.length;
  }

  private acceptBlock(end: number, level: BlockLevel): boolean {
    const parsed = parseBlock(this.buf.slice(0, end), this.tools, level);
    if (!parsed.ok) return false;
    this.out.push({ type: "tool_calls", calls: parsed.calls });
    this.cut(end);
    this.scan = null;
    this.mode = "post";
    this.pos = 0;
    return true;
  }

  /** A complete block without a valid call: text again, or `rejected_call` when marking. */
  private rejectBlock(end: number): void {
    if (!this.markRejected) return this.backToProse(end);
    this.out.push({ type: "rejected_call", text: this.buf.slice(0, end) });
    this.cut(end);
    this.backToProse(0);
  }

  private backToProse(at: number): void {
    this.mode = "prose";
    this.scan = null;
    this.pos = at;
    this.lineStart = false;
  }

  // ---- after a block ----

  /** Whitespace after a block waits; a stray closing wrapper right after it is dropped. */
  private stepPost(final: boolean): boolean {
    const s = this.buf;
    let i = this.pos;
    while (i < s.length && isWs(s[i]!)) i++;
    if (i >= s.length) {
      if (!final) return false;
      this.mode = "prose";
      this.pos = 0;
      return true;
    }
    if (s[i] === "<") {
      const tag = matchToolTag(s, i, final);
      if (tag === PARTIAL) {
        this.pos = 0;
        return false;
      }
      if (tag && tag.closing && tag.name === "tool_calls") {
        this.cut(tag.end);
        this.pos = 0;
        this.lineStart = false;
        this.mode = "prose";
        return true;
      }
    }
    this.mode = "prose";
    this.pos = 0;
    return true;
  }
}
