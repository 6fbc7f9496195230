/** Small helpers the benches share: a free loopback port and waiting for a child server's /readyz. */
import type { Subprocess } from "bun";

export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Polls `url`/readyz until it answers 200; fails when the process exits first or after 30 s. */
export async function waitReady(url: string, proc: Subprocess): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}) before ${url}/readyz answered`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {}
    if (performance.now() - t0 > 30_000) throw new Error(`${url}/readyz did not answer in 30 s`);
    await Bun.sleep(20);
  }
}

/** The child processes of one bench run, started in `dir` (stopped together by `stopAll`). */
export class BenchProcesses {
  readonly procs: Subprocess[] = [];
  constructor(private readonly dir: string) {}

  spawn(cmd: string[], env: Record<string, string> = {}, stdout: "pipe" | "ignore" = "ignore"): Subprocess {
    const p = Bun.spawn(cmd, { cwd: this.dir, stdout, stderr: "inherit", env: { ...process.env, LOG_LEVEL: "error", ...env } });
    this.procs.push(p);
    return p;
  }

  /** bench/sim-server.ts as a child: its URL (first stdout line) and the bench logins of its accounts. */
  async simulator(args: string[], accounts: number): Promise<{ url: string; logins: string[] }> {
    const sim = this.spawn([process.execPath, new URL("./sim-server.ts", import.meta.url).pathname, "--accounts", String(accounts), ...args], {}, "pipe");
    const reader = (sim.stdout as ReadableStream<Uint8Array>).getReader();
    const url = new TextDecoder().decode((await reader.read()).value).trim();
    reader.releaseLock();
    return { url, logins: Array.from({ length: accounts }, (_, i) => `bench${i}@example.com:pw-${i}`) };
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs) p.kill();
    await Promise.all(this.procs.map((p) => p.exited));
  }
}
