/**
 * The compact tokenizer data file (written by scripts/build-tokenizer-data.ts, read by tokenizer.ts):
 * "DSBPE002", u32 header length, the JSON header, zero padding to 4 bytes, then little-endian u32 arrays —
 * left id[merges], right id[merges], result id minus rank[merges] (constant for DeepSeek V3, so it compresses
 * away), and the merge lookup table[tableSize] (open addressing, rank + 1 per slot, 0 = empty; see
 * bpe-tokenizer.ts). Everything is used in place: loading is one file read and a few views.
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
  tableSize: number;
}

const MAGIC = "DSBPE002";

export interface BpeTables {
  header: BpeHeader;
  left: Uint32Array;
  right: Uint32Array;
  /** Result id minus rank. */
  delta: Uint32Array;
  table: Int32Array;
}

function layout(jsonLength: number, header: Pick<BpeHeader, "merges" | "tableSize">) {
  const start = Math.ceil((12 + jsonLength) / 4) * 4;
  return { start, words: header.merges * 3 + header.tableSize };
}

export function encodeBpeData(t: BpeTables): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(t.header));
  const { start, words } = layout(json.length, t.header);
  const out = new Uint8Array(start + words * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = start;
  for (const arr of [t.left, t.right, t.delta, t.table]) {
    for (let i = 0; i < arr.length; i++, at += 4) view.setUint32(at, arr[i]! >>> 0, true);
  }
  return out;
}

/** Views into `buffer` (little-endian host assumed: every supported target is). */
export function decodeBpeData(buffer: ArrayBuffer): BpeTables {
  const bytes = new Uint8Array(buffer);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new Error(`not a ${MAGIC} tokenizer data file`);
  const len = new DataView(buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as BpeHeader;
  const { start, words } = layout(len, header);
  if (buffer.byteLength < start + words * 4) throw new Error("tokenizer data file is truncated");
  const n = header.merges;
  const u32 = (k: number, count: number) => new Uint32Array(buffer, start + k * 4, count);
  return { header, left: u32(0, n), right: u32(n, n), delta: u32(2 * n, n), table: new Int32Array(buffer, start + 3 * n * 4, header.tableSize) };
}
