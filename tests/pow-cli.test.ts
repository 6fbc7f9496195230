import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPowCommand } from "../src/cli/pow.ts";
import { challengeOf, powVectors } from "./pow-fixtures.ts";
import { spawnTracked } from "./support/processes.ts";
import { runCommand } from "./support/spawn-server.ts";

const repo = new URL("..", import.meta.url).pathname;
const bun = process.execPath;

async function run(args: string[], stdin: string) {
  let out = "";
  let err = "";
  const code = await runPowCommand(args, stdin, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const solvable = powVectors.solve_vectors.find((v) => v.answer !== null && v.answer > 100_000)!;
const unsolvable = powVectors.solve_vectors.find((v) => v.answer === null)!;

function decodeHeader(header: string) {
  return JSON.parse(Buffer.from(header, "base64").toString("utf8"));
}

describe("ds2api pow", () => {
  test("bare challenge object → one JSON line with answer, header, ms", async () => {
    const { code, out, err } = await run(["--workers", "2"], JSON.stringify(challengeOf(solvable)));
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.endsWith("\n")).toBe(true);
    expect(out.trim().split("\n")).toHaveLength(1);
    const line = JSON.parse(out);
    expect(line.answer).toBe(solvable.answer);
    expect(line.ms).toBeGreaterThan(0);
    expect(decodeHeader(line.header)).toMatchObject({ answer: solvable.answer, challenge: solvable.challenge, salt: solvable.salt });
  });

  test("accepts the full envelope and {challenge:{...}}; --repeat adds min_ms and median_ms", async () => {
    const c = challengeOf(powVectors.solve_vectors[4]!);
    const envelope = JSON.stringify({ code: 0, msg: "", data: { biz_code: 0, biz_data: { challenge: c } } });
    const a = await run(["--repeat", "3", "--workers=1"], envelope);
    expect(a.code).toBe(0);
    const line = JSON.parse(a.out);
    expect(line.answer).toBe(powVectors.solve_vectors[4]!.answer);
    expect(line.min_ms).toBeLessThanOrEqual(line.median_ms);
    const b = await run([], JSON.stringify({ challenge: c }));
    expect(JSON.parse(b.out).answer).toBe(line.answer);
  });

  test("no answer → exit 1 with a message on stderr", async () => {
    const { code, out, err } = await run([], JSON.stringify(challengeOf(unsolvable)));
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain("no answer");
  });

  test("bad input → exit 1 with a clear message", async () => {
    for (const [args, input, needle] of [
      [[], "not json", "not valid JSON"],
      [[], JSON.stringify({ ...challengeOf(solvable), algorithm: "Other" }), "algorithm"],
      [[], JSON.stringify({ ...challengeOf(solvable), signature: undefined }), "signature"],
      [["--repeat", "0"], JSON.stringify(challengeOf(solvable)), "--repeat"],
      [["--bogus"], JSON.stringify(challengeOf(solvable)), "unknown argument"],
      [["--check-expiry"], JSON.stringify(challengeOf(solvable)), "expired"],
    ] as const) {
      const r = await run([...args], input);
      expect(r.code).toBe(1);
      expect(r.err).toContain(needle);
    }
  });

  test("reads a ReadableStream stdin", async () => {
    const stream = new Blob([JSON.stringify(challengeOf(powVectors.solve_vectors[0]!))]).stream();
    let out = "";
    const code = await runPowCommand([], stream, { out: (t) => (out += t), err: () => {} });
    expect(code).toBe(0);
    expect(JSON.parse(out).answer).toBe(powVectors.solve_vectors[0]!.answer);
  });
});

describe("compiled executable", () => {
  test("bun build --compile with the worker entrypoint solves with workers and wasm inside the binary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ds2api-pow-"));
    try {
      const exe = join(dir, "pow-bin");
      const build = await runCommand([bun, "build", "--compile", "--minify", "src/cli/pow-main.ts", "src/upstream/pow/worker.ts", "--outfile", exe], { cwd: repo });
      expect(build.code, build.stderr).toBe(0);
      // run from an unrelated directory so nothing can be loaded from the source tree
      const proc = spawnTracked([exe, "--workers", "2"], { cwd: dir, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      proc.stdin.write(JSON.stringify(challengeOf(solvable)));
      await proc.stdin.end();
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(err).toBe("");
      expect(code).toBe(0);
      const line = JSON.parse(out);
      expect(line.answer).toBe(solvable.answer);
      expect(decodeHeader(line.header).answer).toBe(solvable.answer);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
