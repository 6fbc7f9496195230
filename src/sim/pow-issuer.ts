/** Issues and checks real DeepSeekHashV1 challenges the way §3.6 describes. */
import { deepSeekHashV1, powMessage } from "../upstream/pow/reference-hash.ts";
import type { PowChallenge } from "../upstream/pow/types.ts";

export interface IssuedChallenge extends PowChallenge {
  answer: number;
  accountId: string;
  used: boolean;
}

export type PowVerdict = { ok: true; challenge: IssuedChallenge } | { ok: false; reason: string };

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export class PowIssuer {
  /** Keyed by signature. */
  readonly issued = new Map<string, IssuedChallenge>();

  constructor(
    private readonly cfg: { difficulty(): number; ttlMs(): number; now(): number },
  ) {}

  issue(targetPath: string, accountId: string): IssuedChallenge {
    const difficulty = Math.max(1, this.cfg.difficulty());
    const answer = Math.floor(Math.random() * difficulty);
    const salt = randomHex(16);
    const expireAt = this.cfg.now() + this.cfg.ttlMs();
    const signature = randomHex(32);
    const c: IssuedChallenge = {
      algorithm: "DeepSeekHashV1",
      challenge: deepSeekHashV1(powMessage(salt, expireAt, answer)),
      salt,
      expire_at: expireAt,
      difficulty,
      signature,
      target_path: targetPath,
      answer,
      accountId,
      used: false,
    };
    this.issued.set(signature, c);
    return c;
  }

  /** Checks an `x-ds-pow-response` header for `path`. `consume` marks it used; `singleUse` refuses reuse. */
  verify(header: string | null, path: string, opts: { consume: boolean; singleUse: boolean }): PowVerdict {
    if (!header) return { ok: false, reason: "missing pow response" };
    let parsed: Record<string, unknown>;
    try {
      const json = Buffer.from(header, "base64").toString("utf8");
      const v = JSON.parse(json);
      if (!v || typeof v !== "object" || Array.isArray(v)) return { ok: false, reason: "malformed pow response" };
      parsed = v as Record<string, unknown>;
    } catch {
      return { ok: false, reason: "malformed pow response" };
    }
    if (parsed.algorithm !== "DeepSeekHashV1") return { ok: false, reason: "unsupported algorithm" };
    if (typeof parsed.answer !== "number" || !Number.isInteger(parsed.answer)) return { ok: false, reason: "malformed answer" };
    const c = typeof parsed.signature === "string" ? this.issued.get(parsed.signature) : undefined;
    if (!c || c.challenge !== parsed.challenge || c.salt !== parsed.salt) return { ok: false, reason: "unknown challenge" };
    if (parsed.target_path !== path || c.target_path !== path) return { ok: false, reason: "wrong target path" };
    if (this.cfg.now() > c.expire_at) return { ok: false, reason: "challenge expired" };
    if (opts.singleUse && c.used) return { ok: false, reason: "challenge already used" };
    // Recompute with the real hash rather than comparing to the stored answer.
    if (deepSeekHashV1(powMessage(c.salt, c.expire_at, parsed.answer)) !== c.challenge) return { ok: false, reason: "wrong answer" };
    if (opts.consume) c.used = true;
    return { ok: true, challenge: c };
  }
}

/** The public challenge object (what `create_pow_challenge` returns), without the secret fields. */
export function publicChallenge(c: IssuedChallenge): PowChallenge {
  const { answer: _a, accountId: _b, used: _c, ...pub } = c;
  return pub;
}
