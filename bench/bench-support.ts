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
