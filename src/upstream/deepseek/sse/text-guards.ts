/**
 * Per-piece text repairs of protocol §4.9 / §4.12. Pieces are never trimmed, except the one case the
 * spec asks for (spaces/tabs right before a leaked CONTENT_FILTER marker).
 */

const LEAK_MARKER = "CONTENT_FILTER";

/**
 * A leaked `CONTENT_FILTER` marker inside a token: keep what comes before it, without trailing spaces and
 * tabs. Returns "" when nothing is left (drop the piece). Newlines are not trimmed, so a newline-only
 * remainder is kept. Pieces without the marker are returned unchanged (same string).
 */
export function cutLeakedContentFilter(piece: string): string {
  const at = piece.indexOf(LEAK_MARKER);
  if (at === -1) return piece;
  let end = at;
  while (end > 0) {
    const c = piece.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return piece.slice(0, end);
}

export function hasLeakedContentFilter(piece: string): boolean {
  return piece.includes(LEAK_MARKER);
}

const OPEN_TAG = "<think>";
const CLOSE_TAG = "</think>";

/** Removes stray `<think>` / `</think>` tags. */
export function stripThinkTags(piece: string): string {
  if (piece.indexOf("<") === -1) return piece;
  let s = piece;
  if (s.includes(OPEN_TAG)) s = s.split(OPEN_TAG).join("");
  if (s.includes(CLOSE_TAG)) s = s.split(CLOSE_TAG).join("");
  return s;
}

/**
 * Splits a reasoning piece at the first `</think>`: `before` stays reasoning, `after` is answer text
 * (both with stray tags removed). Returns undefined when the piece has no closing tag.
 */
export function splitAtThinkClose(piece: string): { before: string; after: string } | undefined {
  const at = piece.indexOf(CLOSE_TAG);
  if (at === -1) return undefined;
  return {
    before: stripThinkTags(piece.slice(0, at)),
    after: stripThinkTags(piece.slice(at + CLOSE_TAG.length)),
  };
}
