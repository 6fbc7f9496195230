/**
 * Tells whether a chunk of an event stream carries anything but comments. The upstream idle timeout
 * counts only such bytes as activity: a stream that sends nothing but `: keep-alive` comment lines is
 * as stalled as a silent one (DeepSeek's own comments are sparse; a minutes-long run of them means the
 * answer is stuck). Blank lines (event separators) do not count either. Works across chunk boundaries.
 */
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

export class SseActivityScanner {
  private atLineStart = true;
  /** The unfinished line at the end of the previous chunk is a comment. */
  private inComment = false;

  /** True when `chunk` contains at least one byte of a non-comment line. */
  push(chunk: Uint8Array): boolean {
    let active = false;
    let inComment = this.inComment;
    let atStart = this.atLineStart;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF || b === CR) {
        atStart = true;
        inComment = false;
        continue;
      }
      if (atStart) {
        atStart = false;
        inComment = b === COLON;
      }
      if (!inComment) active = true;
    }
    this.atLineStart = atStart;
    this.inComment = inComment;
    return active;
  }
}
