/**
 * Cold start: process spawn → first 200 from /readyz, over several runs, each from an empty temp folder (fresh
 * sqlite). Compares ds2api from source (`bun run src/main.ts`) and, when built, dist/ds2api, against a bare
 * Bun.serve answering /readyz (bench/bare-server.ts), measured in the same run; prints medians and ratios.
 * Usage: bun bench/startup.ts [--runs 9] [--binary other/ds2api]... [--no-source]
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg("--runs", 9);

function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function once(cmd: (port: number, dir: string) => string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "ds2api-startup-"));
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn(cmd(port, dir), {
    cwd: dir,
    stdout: "ignore",
    stderr: "ignore",
    env: { ...process.env, DS2API_ADMIN_KEY: "bench-admin-key", LOG_LEVEL: "error", DS2API_DB_PATH: join(dir, "db.sqlite") },
  });
  try {
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (r.status === 200) return performance.now() - t0;
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
// Interleaved runs, so that machine load hits every target alike.
for (let i = 0; i < RUNS + 1; i++) {
  for (const [name, cmd] of targets) {
    const ms = await once(cmd);
    if (i > 0) results.get(name)!.push(ms); // the first round warms the file cache
  }
}
const base = median(results.get(targets[0]![0])!);
for (const [name] of targets) {
  const xs = results.get(name)!;
  const m = median(xs);
  console.log(`${name.padEnd(30)} median ${m.toFixed(1).padStart(6)} ms  min ${Math.min(...xs).toFixed(1).padStart(6)}  max ${Math.max(...xs).toFixed(1).padStart(6)}  ratio ${(m / base).toFixed(2)}×`);
}
