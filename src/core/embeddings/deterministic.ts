/**
 * Deterministic "embeddings" (the Go ds2api's mock provider): a SHA-256 chain of the text mapped to [-1, 1].
 * They carry no meaning; they exist so clients that insist on an embeddings endpoint keep working.
 */
import { createHash } from "node:crypto";

export const DEFAULT_EMBEDDING_DIMENSIONS = 64;

export function deterministicEmbedding(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const out: number[] = [];
  let block = createHash("sha256").update(text, "utf8").digest();
  while (out.length < dimensions) {
    for (let i = 0; i + 1 < block.length && out.length < dimensions; i += 2) out.push(block.readUInt16LE(i) / 32767.5 - 1);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/** OpenAI's `encoding_format: "base64"`: little-endian float32 values, base64-encoded. */
export function embeddingToBase64(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString("base64");
}
