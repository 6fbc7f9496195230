/** Runs ds2api as a child process (source via bun, or a compiled binary) and waits until it listens. */
import type { Subprocess } from "bun";
import { spawnTracked } from "./processes.ts";
import { repoRoot } from "./test-server.ts";

export { until } from "./wait.ts";

export interface SpawnedServer {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  stdout(): string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export function sourceCommand(): string[] {
  return [process.execPath, `${repoRoot}src/main.ts`];
}

async function drain(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
}

/**
 * Starts the server and waits for its "listening" line. The process is registered (tests/support/processes.ts):
 * it is killed after the test (or at the end of the run, when started in beforeAll) if nobody stopped it.
 */
export async function spawnServer(cmd: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<SpawnedServer> {
  const out: string[] = [];
  const err: string[] = [];
  const proc = spawnTracked(cmd, { cwd: opts.cwd, env: opts.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  // stop() waits for both pipes to reach their end, so stdout()/stderr() hold everything the process wrote.
  const drained = Promise.all([drain(proc.stdout, out), drain(proc.stderr, err)]).catch(() => undefined);
  const deadline = Date.now() + (opts.timeoutMs ?? 45_000);
  let url: string | undefined;
  while (!url) {
    const m = /listening url=(http:\/\/\S+)/.exec(err.join(""));
    if (m) url = m[1];
    else if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${err.join("")}${out.join("")}`);
    else if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`server did not start: ${err.join("")}`);
    } else await Bun.sleep(20);
  }
  return {
    proc,
    url: url!,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      await drained;
      return code;
    },
  };
}

/** Runs a command to completion (registered like spawnServer) and returns its exit code and output. */
export async function runCommand(cmd: string[], opts: { cwd: string; env?: Record<string, string>; stdin?: string }) {
  const proc = spawnTracked(cmd, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
