/**
 * Nesting depth of JSON text, counted on the raw UTF-8 bytes as they arrive: `[` and `{` outside strings.
 * Linear, no recursion, so a body nested 100,000 levels deep is refused before JSON.parse sees it.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

export const MAX_JSON_DEPTH = 128;

export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Set once the text went deeper than the limit; later bytes are not scanned. */
  exceeded = false;

  constructor(readonly maxDepth = MAX_JSON_DEPTH) {}

  /** Scans the next bytes; returns false once the limit is exceeded. */
  push(bytes: Uint8Array): boolean {
    if (this.exceeded) return false;
    let { depth, inString, escaped } = this;
    const max = this.maxDepth;
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        // Strings are most of a body: jump to the next quote (native search), then look at the backslashes before it.
        const q = bytes.indexOf(QUOTE, i);
        const end = q < 0 ? n : q;
        let k = end - 1;
        while (k >= i && bytes[k] === BACKSLASH) k--;
        const oddBackslashes = (end - 1 - k) % 2 === 1;
        if (q < 0) {
          escaped = oddBackslashes;
          break;
        }
        if (!oddBackslashes) inString = false;
        i = q + 1;
        continue;
      }
      const b = bytes[i++]!;
      if (b === QUOTE) inString = true;
      else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
        if (++depth > max) {
          this.exceeded = true;
          return false;
        }
      } else if ((b === CLOSE_ARRAY || b === CLOSE_OBJECT) && depth > 0) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}
