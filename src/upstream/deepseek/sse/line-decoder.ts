/**
 * Incremental Server-Sent-Events decoder (protocol §4.1).
 *
 * - Accepts bytes or strings in chunks split anywhere (also inside a UTF-8 sequence or a CRLF pair).
 * - Line endings: LF, CRLF or a lone CR.
 * - `event:` sets the event name (default "message"), `data:` lines are joined with "\n",
 *   a blank line dispatches. Comment lines (starting with ':') and unknown fields are ignored.
 * - Lines of any length: an unfinished line is kept as a list of pieces and joined once when its
 *   end arrives, and every character is scanned for a line break only once (no quadratic re-scan).
 * - Do not mix byte and string chunks in the middle of a multi-byte character.
 */

export interface SseFrame {
  event: string;
  data: string;
}

const DEFAULT_EVENT = "message";

export class SseLineDecoder {
  private readonly utf8 = new TextDecoder("utf-8");
  /** Pieces of the current, not yet terminated line. */
  private pending: string[] = [];
  /** The previous chunk ended in '\r': a '\n' at the start of the next chunk belongs to it. */
  private skipLeadingLF = false;
  private eventName = "";
  private dataLines: string[] = [];
  private hasData = false;

  push(chunk: Uint8Array | string): SseFrame[] {
    const text = typeof chunk === "string" ? chunk : this.utf8.decode(chunk, { stream: true });
    const out: SseFrame[] = [];
    if (text.length > 0) this.scan(text, out);
    return out;
  }

  /** Flushes the last line and a final event that was not followed by a blank line. */
  end(): SseFrame[] {
    const out: SseFrame[] = [];
    const tail = this.utf8.decode();
    if (tail.length > 0) this.scan(tail, out);
    if (this.pending.length > 0) {
      const line = this.pending.length === 1 ? this.pending[0]! : this.pending.join("");
      this.pending = [];
      this.line(line, out);
    }
    this.dispatch(out);
    this.skipLeadingLF = false;
    return out;
  }

  private scan(text: string, out: SseFrame[]): void {
    let pos = 0;
    const len = text.length;
    if (this.skipLeadingLF) {
      this.skipLeadingLF = false;
      if (text.charCodeAt(0) === 10) pos = 1;
    }
    // Cached positions of the next LF / CR at or after `pos` (-1: none left in this chunk).
    let nextLF = text.indexOf("\n", pos);
    let nextCR = text.indexOf("\r", pos);
    while (pos < len) {
      if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf("\n", pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf("\r", pos);
      let brk: number;
      if (nextLF === -1) brk = nextCR;
      else if (nextCR === -1) brk = nextLF;
      else brk = nextLF < nextCR ? nextLF : nextCR;
      if (brk === -1) {
        this.pending.push(pos === 0 ? text : text.slice(pos));
        return;
      }
      let line = text.slice(pos, brk);
      if (this.pending.length > 0) {
        this.pending.push(line);
        line = this.pending.join("");
        this.pending = [];
      }
      pos = brk + 1;
      if (brk === nextCR) {
        if (pos === len) this.skipLeadingLF = true;
        else if (text.charCodeAt(pos) === 10) pos++;
      }
      this.line(line, out);
    }
  }

  private line(line: string, out: SseFrame[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    const first = line.charCodeAt(0);
    if (first === 58 /* ':' */) return;
    // Fast paths for the two fields that matter.
    if (first === 100 /* d */ && line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      this.dataLines.push(value);
      this.hasData = true;
      return;
    }
    if (first === 101 /* e */ && line.startsWith("event:")) {
      this.eventName = line.charCodeAt(6) === 32 ? line.slice(7) : line.slice(6);
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field === "data") {
      // "data" without a colon: an empty data line.
      this.dataLines.push("");
      this.hasData = true;
    } else if (field === "event") {
      this.eventName = "";
    }
    // id, retry and unknown fields are ignored.
  }

  private dispatch(out: SseFrame[]): void {
    if (this.hasData) {
      const data = this.dataLines.length === 1 ? this.dataLines[0]! : this.dataLines.join("\n");
      out.push({ event: this.eventName || DEFAULT_EVENT, data });
    }
    this.eventName = "";
    this.dataLines = [];
    this.hasData = false;
  }
}
