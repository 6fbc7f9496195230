/**
 * Finding where a tool-call block ends, incrementally (toolcalls.md §3.4, reworked).
 *
 * A "wrapper" block starts at an opening `<tool_calls>` and ends at its depth-matched close. A
 * "bare" block starts at an `<invoke>` with no wrapper and only counts when the invokes are followed
 * by a closing wrapper (the missing-opening-wrapper repair, §2.4). CDATA and comments are skipped.
 * Prose where only tags may appear (directly inside the wrapper, between bare invokes, right after a
 * bare invoke's open tag) fails the block at once, so a wrapper mentioned in prose never stalls a stream.
 */
import { CDATA_OPEN, CdataScan, NEED_MORE, NOT_FOUND, type CdataLevel } from "./cdata.ts";
import { PARTIAL, matchToolTag, type ToolTag } from "./tags.ts";

export type BlockKind = "wrapper" | "bare";

/** 0–2: CDATA levels (cdata.ts); 3: like 2, and an unclosed `<![CDATA[` opener counts as text. */
export type BlockLevel = 0 | 1 | 2 | 3;

export type ScanResult =
  | { status: "more" }
  | { status: "done"; end: number }
  /** Not a block: prose where only tags belong. */
  | { status: "fail" }
  /** Final input ended inside the block. */
  | { status: "incomplete" };

const MORE: ScanResult = { status: "more" };
const FAIL: ScanResult = { status: "fail" };
const INCOMPLETE: ScanResult = { status: "incomplete" };
const MAX_FOREIGN_TAG = 256;

function isWs(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

export class BlockScan {
  private pos: number;
  private wrapperDepth: number;
  private invokeDepth: number;
  private paramDepth = 0;
  /** Bare block: right after an invoke open tag, before its body's first character. */
  private expectBody: boolean;
  private cdata: CdataScan | null = null;
  private cdataOpenAt = 0;
  private inComment = false;

  constructor(
    readonly kind: BlockKind,
    startTag: ToolTag,
    readonly level: BlockLevel = 0,
  ) {
    this.pos = startTag.end;
    this.wrapperDepth = kind === "wrapper" ? 1 : 0;
    this.invokeDepth = kind === "bare" && !startTag.selfClosing ? 1 : 0;
    this.expectBody = kind === "bare" && !startTag.selfClosing;
  }

  advance(s: string, final: boolean): ScanResult {
    const n = s.length;
    let i = this.pos;
    const wait = (at: number): ScanResult => {
      this.pos = at;
      return final ? INCOMPLETE : MORE;
    };
    while (i < n) {
      if (this.cdata) {
        const r = this.cdata.advance(s, final);
        if (r === NEED_MORE) return wait(n);
        if (r === NOT_FOUND) {
          if (this.level < 3) return INCOMPLETE;
          i = this.cdataOpenAt + CDATA_OPEN.length;
        } else i = r;
        this.cdata = null;
        continue;
      }
      if (this.inComment) {
        const e = s.indexOf("-->", i);
        if (e < 0) return wait(Math.max(i, n - 2));
        this.inComment = false;
        i = e + 3;
        continue;
      }
      const c = s[i]!;
      const strict = this.strictHere();
      if (strict && isWs(c)) {
        i++;
        continue;
      }
      if (this.expectBody) {
        if (isWs(c)) {
          i++;
          continue;
        }
        if (c !== "<" && c !== "{" && c !== "[") return FAIL;
        this.expectBody = false;
      }
      if (c !== "<") {
        if (strict) return FAIL;
        i++;
        continue;
      }
      // c === "<"
      const cdataPrefix = Math.min(n - i, CDATA_OPEN.length);
      if (s.startsWith(CDATA_OPEN.slice(0, cdataPrefix), i) && cdataPrefix > 1) {
        if (cdataPrefix < CDATA_OPEN.length) {
          if (!final) return wait(i);
        } else {
          this.cdataOpenAt = i;
          this.cdata = new CdataScan(i + CDATA_OPEN.length, Math.min(this.level, 2) as CdataLevel);
          i += CDATA_OPEN.length;
          continue;
        }
      }
      if (s.startsWith("<!--", i)) {
        this.inComment = true;
        i += 4;
        continue;
      }
      if (n - i < 4 && "<!--".startsWith(s.slice(i)) && !final) return wait(i);
      const tag = matchToolTag(s, i, final);
      if (tag === PARTIAL) return wait(i);
      if (tag) {
        const r = this.onTag(tag);
        if (r === "fail") return FAIL;
        if (r === "done") {
          this.pos = tag.end;
          return { status: "done", end: tag.end };
        }
        i = tag.end;
        continue;
      }
      if (strict) {
        // Some other markup where only tool tags belong: allow a short, well-formed foreign tag.
        let j = i + 1;
        while (j < n && j - i <= MAX_FOREIGN_TAG && s[j] !== ">" && s[j] !== "<") j++;
        if (j >= n && !final && j - i <= MAX_FOREIGN_TAG) return wait(i);
        if (j >= n || s[j] !== ">" || j - i > MAX_FOREIGN_TAG || !/^<\/?[A-Za-z_!?]/.test(s.slice(i, i + 3))) return FAIL;
        i = j + 1;
        continue;
      }
      i++;
    }
    if (final && this.kind === "bare" && this.wrapperDepth === 0 && this.invokeDepth === 0) return FAIL;
    return wait(n);
  }

  /** Earliest index the scanner still needs; text before it may be dropped from the window. */
  get needFrom(): number {
    return this.cdata ? Math.min(this.cdata.pos, this.pos) : this.pos;
  }

  /** The caller dropped `shift` characters from the front of the text. */
  rebase(shift: number): void {
    this.pos -= shift;
    this.cdataOpenAt -= shift;
    if (this.cdata) this.cdata.pos -= shift;
  }

  /** Only tags (and whitespace) may appear here. */
  private strictHere(): boolean {
    if (this.expectBody) return false;
    if (this.invokeDepth > 0 || this.paramDepth > 0) return false;
    return true;
  }

  private onTag(tag: ToolTag): "ok" | "fail" | "done" {
    switch (tag.name) {
      case "tool_calls":
        if (tag.closing) {
          if (this.kind === "bare" && this.wrapperDepth === 0) return "done";
          this.wrapperDepth--;
          return this.wrapperDepth <= 0 ? "done" : "ok";
        }
        if (tag.selfClosing) return "ok";
        if (this.kind === "bare" && this.wrapperDepth === 0 && this.invokeDepth === 0) return "fail";
        this.wrapperDepth++;
        return "ok";
      case "invoke":
        if (tag.closing) {
          this.invokeDepth = Math.max(0, this.invokeDepth - 1);
          this.paramDepth = 0;
        } else if (!tag.selfClosing) {
          this.invokeDepth++;
          if (this.kind === "bare" && this.invokeDepth === 1 && this.wrapperDepth === 0) this.expectBody = true;
        }
        return "ok";
      case "parameter":
        if (tag.closing) this.paramDepth = Math.max(0, this.paramDepth - 1);
        else if (!tag.selfClosing) this.paramDepth++;
        return "ok";
    }
  }
}
