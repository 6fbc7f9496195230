/**
 * Encryption of the secrets kept in sqlite (account passwords, DeepSeek tokens, proxy passwords, the JWT
 * secret) with AES-256-GCM, and keyed hashing of client API keys (HMAC-SHA-256, so a leaked database alone
 * does not let anyone test guesses of a weak key). Both keys are derived (HKDF) from one 32-byte master key
 * that lives outside the database (src/store/secret-key.ts).
 *
 * Sealed values look like `enc:v1:<base64url(iv ‖ ciphertext ‖ tag)>`; the AAD names the field, so a value
 * cannot be moved to another field.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(master: Buffer) {
    if (master.length !== 32) throw new Error("the secret key must be 32 bytes");
    this.encKey = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), "ds2api secrets at rest v1", 32));
    this.macKey = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), "ds2api api key hash v1", 32));
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  seal(plain: string, field: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.encKey, iv);
    cipher.setAAD(Buffer.from(field, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The plaintext, or undefined when the value does not open with this key (tampered, or another key). */
  open(sealed: string, field: string): string | undefined {
    if (!SecretBox.isSealed(sealed)) return sealed; // a value written before encryption (read-only tolerance)
    try {
      const raw = Buffer.from(sealed.slice(PREFIX.length), "base64url");
      if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
      const decipher = createDecipheriv("aes-256-gcm", this.encKey, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(field, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      return undefined;
    }
  }

  sealOptional(plain: string | null | undefined, field: string): string | null {
    return plain === null || plain === undefined ? null : this.seal(plain, field);
  }

  openOptional(sealed: string | null | undefined, field: string): string | undefined {
    return sealed === null || sealed === undefined ? undefined : this.open(sealed, field);
  }

  /** Stable keyed hash of a client API key (hex): the key's identity in the database. */
  hashApiKey(key: string): string {
    return createHmac("sha256", this.macKey).update(key, "utf8").digest("hex");
  }
}
