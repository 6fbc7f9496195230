/** Just enough of a zip reader for the release test (no `unzip` binary needed): entry names and one entry's bytes. */
import { readFileSync } from "node:fs";
import { constants, inflateRawSync } from "node:zlib";

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  localHeader: number;
}

function entries(zip: Buffer): Entry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("bad central directory entry");
    const nameLen = zip.readUInt16LE(at + 28);
    out.push({
      name: zip.toString("utf8", at + 46, at + 46 + nameLen),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      localHeader: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLen + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

export function zipEntryNames(path: string): string[] {
  return entries(readFileSync(path)).map((e) => e.name);
}

/** The entry's bytes; with `head`, only (at least) its first `head` bytes are decompressed. */
export function zipEntryBytes(path: string, name: string, head?: number): Buffer {
  const zip = readFileSync(path);
  const e = entries(zip).find((x) => x.name === name);
  if (!e) throw new Error(`${name} is not in ${path}`);
  const start = e.localHeader + 30 + zip.readUInt16LE(e.localHeader + 26) + zip.readUInt16LE(e.localHeader + 28);
  const data = zip.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(head === undefined ? data : data.subarray(0, head));
  if (e.method === 8) {
    if (head === undefined) return inflateRawSync(data);
    return inflateRawSync(data.subarray(0, Math.max(head * 2, 65536)), { finishFlush: constants.Z_SYNC_FLUSH });
  }
  throw new Error(`unsupported zip compression method ${e.method}`);
}
