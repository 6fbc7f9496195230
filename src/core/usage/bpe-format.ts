/**
 * The compact tokenizer data file (written by scripts/build-tokenizer-data.ts, read by bpe-data.ts):
 * "DSBPE001", u32 header length, the JSON header, zero padding to 4 bytes, then three little-endian u32
 * arrays of `merges` entries each — left id, right id, result id minus rank (constant for DeepSeek V3, so it
 * compresses away) — in merge-rank order.
 */

export interface BpeHeader {
  source: string;
  /** Split regex sources (behaviour Isolated), applied in order, each to the pieces of the previous one. */
  splits: string[];
  /** Added tokens: [content, id], matched before pre-tokenization (longest match, leftmost first). */
  added: [string, number][];
  /** Id of the byte-level symbol of each byte 0..255. */
  byteIds: number[];
  merges: number;
}

const MAGIC = "DSBPE001";

export function encodeBpeData(header: BpeHeader, left: Uint32Array, right: Uint32Array, result: Uint32Array): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const n = header.merges;
  const out = new Uint8Array(start + n * 12);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  for (let i = 0; i < n; i++) {
    view.setUint32(start + i * 4, left[i]!, true);
    view.setUint32(start + (n + i) * 4, right[i]!, true);
    view.setUint32(start + (2 * n + i) * 4, result[i]! - i, true);
  }
  return out;
}

export interface BpeTables {
  header: BpeHeader;
  left: Uint32Array;
  right: Uint32Array;
  result: Uint32Array;
}

export function decodeBpeData(bytes: Uint8Array): BpeTables {
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error("not a DSBPE001 tokenizer data file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as BpeHeader;
  const start = Math.ceil((12 + len) / 4) * 4;
  const n = header.merges;
  if (bytes.byteLength < start + n * 12) throw new Error("tokenizer data file is truncated");
  // Copy into an aligned buffer (and little-endian order; every supported target is little-endian).
  const all = new Uint32Array(n * 3);
  new Uint8Array(all.buffer).set(bytes.subarray(start, start + n * 12));
  const result = all.subarray(2 * n, 3 * n);
  for (let i = 0; i < n; i++) result[i] = result[i]! + i;
  return { header, left: all.subarray(0, n), right: all.subarray(n, 2 * n), result };
}
