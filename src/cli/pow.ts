/**
 * `ds2api pow`: solve one DeepSeekHashV1 challenge read as JSON on stdin.
 *
 *   ds2api pow [--workers N] [--repeat N] [--check-expiry] < challenge.json
 *
 * Input: the `biz_data.challenge` object, `{challenge: {...}}`, or the whole create_pow_challenge envelope.
 * Output: one JSON line {"answer":N,"header":"<x-ds-pow-response>","ms":T}; with --repeat N also min_ms and
 * median_ms over N solves on warm workers. Exit 1 (message on stderr) on bad input or when there is no answer.
 */
import { PowChallengeError, validateChallenge } from "../upstream/pow/challenge.ts";
import { powResponseHeader } from "../upstream/pow/header.ts";
import { PowPool } from "../upstream/pow/pool.ts";
import type { PowChallenge } from "../upstream/pow/types.ts";

const USAGE = "usage: ds2api pow [--workers N] [--repeat N] [--check-expiry] < challenge.json";

interface PowArgs {
  workers?: number;
  repeat: number;
  checkExpiry: boolean;
}

class UsageError extends Error {}

function positiveInt(flag: string, value: string | undefined, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} needs an integer in 1..${max}`);
  return n;
}

function parseArgs(args: string[]): PowArgs {
  const out: PowArgs = { repeat: 1, checkExpiry: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i];
    if (flag === "--workers") out.workers = positiveInt(flag, value(), 256);
    else if (flag === "--repeat") out.repeat = positiveInt(flag, value(), 10_000);
    else if (flag === "--check-expiry") out.checkExpiry = true;
    else throw new UsageError(`unknown argument ${arg}`);
  }
  return out;
}

/** The challenge object inside whatever envelope was given. */
function extractChallenge(input: unknown): unknown {
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const root = obj(input);
  const bizData = obj(obj(root?.data)?.biz_data) ?? obj(root?.biz_data);
  const nested = obj(bizData?.challenge) ?? obj(root?.challenge);
  return nested ?? input;
}

async function readAll(stdin: ReadableStream | string): Promise<string> {
  return typeof stdin === "string" ? stdin : await new Response(stdin).text();
}

function workersFromEnv(): number | undefined {
  const raw = process.env.DS2API_POW_WORKERS;
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

export interface PowCommandIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: PowCommandIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export async function runPowCommand(
  args: string[],
  stdin: ReadableStream | string,
  io: PowCommandIo = processIo,
): Promise<number> {
  let options: PowArgs;
  let challenge: PowChallenge;
  try {
    options = parseArgs(args);
    const text = await readAll(stdin);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PowChallengeError("stdin is not valid JSON");
    }
    challenge = validateChallenge(extractChallenge(parsed), options.checkExpiry ? { now: Date.now() } : {});
    for (const key of ["signature", "target_path"] as const) {
      if (typeof challenge[key] !== "string") throw new PowChallengeError(`challenge has no ${key} (needed for the header)`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.err(`ds2api pow: ${message}\n${err instanceof UsageError ? USAGE + "\n" : ""}`);
    return 1;
  }

  const pool = new PowPool({ size: options.workers ?? workersFromEnv() });
  try {
    if (options.repeat > 1) await pool.warmup();
    const times: number[] = [];
    let answer: number | null = null;
    for (let i = 0; i < options.repeat; i++) {
      const t0 = performance.now();
      answer = await pool.solve(challenge);
      times.push(performance.now() - t0);
      if (answer === null) break;
    }
    if (answer === null) {
      io.err(`ds2api pow: no answer in [0, ${challenge.difficulty})\n`);
      return 1;
    }
    const result: Record<string, unknown> = { answer, header: powResponseHeader(challenge, answer), ms: round2(times[0]!) };
    if (options.repeat > 1) {
      const sorted = [...times].sort((a, b) => a - b);
      result.min_ms = round2(sorted[0]!);
      result.median_ms = round2(median(sorted));
    }
    io.out(JSON.stringify(result) + "\n");
    return 0;
  } catch (err) {
    io.err(`ds2api pow: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    pool.close();
  }
}
