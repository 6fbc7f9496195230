/**
 * Finding where a CDATA section ends (toolcalls.md §2.6.2), resumable so a stream never rescans.
 *
 * Strict rule: a `]]>` ends the section only when it is not inside a markdown fence opened within
 * the CDATA, and is followed by optional whitespace and `</` (or the end of the text). A `]]>`
 * followed directly by `<![CDATA[` joins two sections (the standard split of a literal `]]>`).
 * Looser levels exist for end-of-stream salvage.
 */

export const CDATA_OPEN = "<![CDATA[";
const JOIN = "]]>" + CDATA_OPEN;

/** 0 strict; 1 first unfenced `]]>`; 2 first `]]>` of any kind. */
export type CdataLevel = 0 | 1 | 2;

export const NEED_MORE = -1;
export const NOT_FOUND = -2;

type LineState = "start" | "run" | "closing" | "content";

export class CdataScan {
  /** Next index to examine. */
  pos: number;
  private line: LineState = "start";
  private runCh = "";
  private runLen = 0;
  private fenceCh = "";
  private fenceLen = 0;

  /** `contentStart` is the index just after `<![CDATA[`. */
  constructor(contentStart: number, readonly level: CdataLevel) {
    this.pos = contentStart;
  }

  /** Index just past the closing `]]>`, NEED_MORE, or (final only) NOT_FOUND. */
  advance(s: string, final: boolean): number {
    const n = s.length;
    for (let i = this.pos; i < n; i++) {
      const c = s[i]!;
      if (c === "]") {
        if (i + 2 >= n) {
          if (!final) {
            this.pos = i;
            return NEED_MORE;
          }
        } else if (s[i + 1] === "]" && s[i + 2] === ">") {
          const r = this.closeAt(s, i, final);
          if (r === NEED_MORE) {
            this.pos = i;
            return NEED_MORE;
          }
          if (r === JOINED) {
            i += JOIN.length - 1;
            continue;
          }
          if (r >= 0) {
            this.pos = r;
            return r;
          }
        }
      }
      this.step(c);
    }
    this.pos = n;
    if (final && this.line === "run") this.step("\n");
    return final ? NOT_FOUND : NEED_MORE;
  }

  /** `]]>` at i: end index, JOINED, NEED_MORE, or NOT_AN_END. */
  private closeAt(s: string, i: number, final: boolean): number {
    const n = s.length;
    const after = i + 3;
    const joinLen = Math.min(n - after, CDATA_OPEN.length);
    if (s.startsWith(CDATA_OPEN.slice(0, joinLen), after) && joinLen > 0) {
      if (joinLen === CDATA_OPEN.length) return JOINED;
      if (!final) return NEED_MORE;
    }
    if (this.level === 2) return after;
    if (this.fenceCh && this.lineFenced()) return NOT_AN_END;
    if (this.level === 1) return after;
    let j = after;
    while (j < n && isWs(s[j]!)) j++;
    if (j >= n) return final ? after : NEED_MORE;
    if (s[j] === "<") {
      if (j + 1 >= n) return final ? NOT_AN_END : NEED_MORE;
      if (s[j + 1] === "/") return after;
    }
    return NOT_AN_END;
  }

  /** Whether the current position is inside a fence (a pending closer line still counts as fenced). */
  private lineFenced(): boolean {
    return this.fenceCh !== "";
  }

  private step(c: string): void {
    if (c === "\n") {
      this.endLine();
      return;
    }
    switch (this.line) {
      case "start":
        if (c === " " || c === "\t") return;
        if (c === "`" || c === "~") {
          this.line = "run";
          this.runCh = c;
          this.runLen = 1;
        } else this.line = "content";
        return;
      case "run":
        if (c === this.runCh) {
          this.runLen++;
          return;
        }
        this.decideRun();
        if ((this.line as LineState) === "closing") {
          if (c !== " " && c !== "\t" && c !== "\r") this.line = "content";
        }
        return;
      case "closing":
        if (c !== " " && c !== "\t" && c !== "\r") this.line = "content";
        return;
      case "content":
        return;
    }
  }

  private decideRun(): void {
    if (this.fenceCh) {
      this.line = this.runCh === this.fenceCh && this.runLen >= this.fenceLen ? "closing" : "content";
    } else {
      if (this.runLen >= 3) {
        this.fenceCh = this.runCh;
        this.fenceLen = this.runLen;
      }
      this.line = "content";
    }
  }

  private endLine(): void {
    if (this.line === "run") this.decideRun();
    if (this.line === "closing") {
      this.fenceCh = "";
      this.fenceLen = 0;
    }
    this.line = "start";
  }
}

const JOINED = -3;
const NOT_AN_END = -4;

function isWs(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

/** The text of a CDATA section (`inner` = between the opener and the closing `]]>`), joins removed. */
export function cdataContent(inner: string): string {
  return inner.indexOf(JOIN) < 0 ? inner : inner.split(JOIN).join("");
}
