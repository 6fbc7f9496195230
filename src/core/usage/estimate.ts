/**
 * Reference character heuristic: floor(ascii / 4) + floor((nonAscii * 10 + 7) / 13), at least 1
 * for non-empty text (0 for ""). Non-ASCII is counted per code point.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) ascii++;
    else {
      other++;
      // A surrogate pair is one code point.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
    }
  }
  const n = Math.floor(ascii / 4) + Math.floor((other * 10 + 7) / 13);
  return n < 1 ? 1 : n;
}
