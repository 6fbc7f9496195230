/** Captured `upstream.stream.sse` files, split into rounds for verbatim replay. */

const SSE_LINE = /^(event:|data:|:|id:|retry:)/;

/** Drops leading lines that are not SSE (the longtext captures start with the upload JSON), then splits at each
 *  repeated `event: ready` (one round per completion / continue call). Text is kept byte for byte otherwise. */
export function splitReplayRounds(text: string): string[] {
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
    if (SSE_LINE.test(line)) break;
    start = nl < 0 ? text.length : nl + 1;
  }
  const body = text.slice(start);
  const rounds: string[] = [];
  let from = 0;
  let search = body.startsWith("event: ready\n") ? 1 : 0;
  for (;;) {
    const at = body.indexOf("\nevent: ready\n", search);
    if (at < 0) break;
    rounds.push(body.slice(from, at + 1));
    from = at + 1;
    search = at + 1;
  }
  rounds.push(body.slice(from));
  return rounds.filter((r) => r.length > 0);
}

/** UTF-8 bytes of `text` cut into pieces of `size` (multi-byte characters get split across pieces on purpose). */
export function byteChunks(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  const n = Math.max(1, size);
  for (let i = 0; i < bytes.length; i += n) out.push(bytes.subarray(i, i + n));
  return out;
}
