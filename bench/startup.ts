/**
 * Cold start: process spawn → first 200 from /readyz, over several runs, each from an empty temp folder (fresh
 * sqlite). Compares ds2api from source (`bun run src/main.ts`) and, when built, dist/ds2api, against a bare
 * Bun.serve answering /readyz (bench/bare-server.ts), measured in the same run; prints medians and ratios.
 * With --phases, ds2api runs with DS2API_START_TRACE=1 and the bench also prints, per target, the median time of
 * each start-up phase since spawn (src/runtime/start-trace.ts).
 * Usage: bun bench/startup.ts [--runs 9] [--binary other/ds2api]... [--no-source] [--phases]
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./bench-support.ts";

const root = join(import.meta.dir, "..");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg("--runs", 9);
const PHASES = process.argv.includes("--phases");


interface PhaseAt {
  /** ms since spawn (the child's clock origin aligned to the spawn) */
  wall: number;
  /** CPU ms the child had used (user + system, all threads), when it printed the mark */
  cpu: number;
  /** CPU ms of the child's main thread alone (NaN where /proc is not there) */
  main: number;
}

/** Phase name → when it was reached, from the child's start-trace lines. */
function parsePhases(stderr: string, spawnedAt: number): Map<string, PhaseAt> {
  const phases = new Map<string, PhaseAt>();
  let origin: number | undefined;
  for (const line of stderr.split("\n")) {
    const o = /^start-trace-origin ([\d.]+)$/.exec(line);
    if (o) origin = Number(o[1]);
    const m = /^start-trace ([\d.]+) ([\d.]+) ([\d.]+|NaN) (.+)$/.exec(line);
    if (m && origin !== undefined) phases.set(m[4]!.replace(/ \(.*\)$/, ""), { wall: origin + Number(m[1]) - spawnedAt, cpu: Number(m[2]), main: Number(m[3]) });
  }
  if (origin !== undefined) phases.set("process time origin", { wall: origin - spawnedAt, cpu: 0, main: 0 });
  return phases;
}

async function once(cmd: (port: number, dir: string) => string[], phases?: Map<string, PhaseAt>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "ds2api-startup-"));
  const port = freePort();
  const t0 = performance.now();
  const spawnedAt = performance.timeOrigin + t0;
  const proc = Bun.spawn(cmd(port, dir), {
    cwd: dir,
    stdout: "ignore",
    stderr: phases ? "pipe" : "ignore",
    env: {
      ...process.env,
      DS2API_ADMIN_KEY: "bench-admin-key",
      LOG_LEVEL: "error",
      DS2API_DB_PATH: join(dir, "db.sqlite"),
      ...(phases ? { DS2API_START_TRACE: "1" } : {}),
    },
  });
  try {
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (r.status === 200) {
          const ms = performance.now() - t0;
          if (phases) {
            proc.kill();
            for (const [k, v] of parsePhases(await new Response(proc.stderr as ReadableStream).text(), spawnedAt)) phases.set(k, v);
            phases.set("client saw 200", { wall: ms, cpu: NaN, main: NaN });
          }
          return ms;
        }
      } catch {}
      if (performance.now() - t0 > 20_000) throw new Error(`no /readyz after 20 s: ${cmd(port, dir).join(" ")}`);
      await Bun.sleep(1);
    }
  } finally {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const targets: [string, (port: number, dir: string) => string[]][] = [
  ["bare Bun.serve (baseline)", (port) => [process.execPath, join(root, "bench/bare-server.ts"), String(port)]],
];
if (!process.argv.includes("--no-source")) targets.push(["ds2api from source", (port) => [process.execPath, "run", join(root, "src/main.ts"), "--port", String(port), "--host", "127.0.0.1"]]);
const binaries = [join(root, "dist/ds2api"), ...process.argv.flatMap((a, i) => (process.argv[i - 1] === "--binary" ? [a] : []))];
for (const bin of binaries.filter((b) => existsSync(b))) targets.push([`${bin.replace(`${root}/`, "")} (empty folder)`, (port) => [bin, "--port", String(port), "--host", "127.0.0.1"]]);

const results = new Map<string, number[]>(targets.map(([name]) => [name, []]));
const phaseRuns = new Map<string, Map<string, PhaseAt>[]>(targets.map(([name]) => [name, []]));
// Interleaved runs, so that machine load hits every target alike.
for (let i = 0; i < RUNS + 1; i++) {
  for (const [name, cmd] of targets) {
    const phases = PHASES && name !== targets[0]![0] ? new Map<string, PhaseAt>() : undefined;
    const ms = await once(cmd, phases);
    if (i === 0) continue; // the first round warms the file cache
    results.get(name)!.push(ms);
    if (phases) phaseRuns.get(name)!.push(phases);
  }
}
const base = median(results.get(targets[0]![0])!);
for (const [name] of targets) {
  const xs = results.get(name)!;
  const m = median(xs);
  console.log(`${name.padEnd(30)} median ${m.toFixed(1).padStart(6)} ms  min ${Math.min(...xs).toFixed(1).padStart(6)}  max ${Math.max(...xs).toFixed(1).padStart(6)}  ratio ${(m / base).toFixed(2)}×`);
}
const medianOf = (xs: number[]) => (xs.some((x) => !Number.isNaN(x)) ? median(xs.filter((x) => !Number.isNaN(x))) : NaN);
const fmt = (x: number) => (Number.isNaN(x) ? "" : x.toFixed(1)).padStart(7);
for (const [name, runs] of phaseRuns) {
  if (!runs.length) continue;
  console.log(`\n${name}: median per phase — wall ms since spawn (step); CPU ms used, all threads (step); main thread (step)`);
  const order = [...runs[0]!.entries()].sort((a, b) => a[1].wall - b[1].wall).map(([k]) => k);
  let prev: PhaseAt = { wall: 0, cpu: 0, main: 0 };
  for (const phase of order) {
    const of = (k: keyof PhaseAt) => medianOf(runs.map((r) => r.get(phase)?.[k] ?? NaN));
    const at: PhaseAt = { wall: of("wall"), cpu: of("cpu"), main: of("main") };
    console.log(
      `  ${phase.padEnd(30)} ${fmt(at.wall)} (${fmt(at.wall - prev.wall)})   cpu ${fmt(at.cpu)} (${fmt(at.cpu - prev.cpu)})   main ${fmt(at.main)} (${fmt(at.main - prev.main)})`,
    );
    prev = { wall: at.wall, cpu: Number.isNaN(at.cpu) ? prev.cpu : at.cpu, main: Number.isNaN(at.main) ? prev.main : at.main };
  }
}
