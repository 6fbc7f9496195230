/**
 * A real `redis-server` for tests: a free port on 127.0.0.1, a temp dir, no persistence (`--save "" --appendonly
 * no`). The handle can stop (SIGTERM), kill (SIGKILL) and restart the server on the same port, for outage tests.
 *
 * Cleanup: one `trackStop` entry per handle (scope of the caller: start it in `beforeAll` to share it in a file)
 * stops whichever process is current, so a server restarted inside a test body is not reaped at that test's end
 * (a `spawnTracked` child would be, the restart belonging to the test). Every process also carries the run marker
 * (childEnv), so the end-of-run sweep, the exit hook and the detached reaper kill it if the handle is never stopped.
 *
 * Not installed → throws, naming the Debian package, so the test fails instead of skipping.
 */
import { afterAll, beforeAll } from "bun:test";
import { RedisClient, type Subprocess } from "bun";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnv, trackStop } from "./processes.ts";

export interface TestRedis {
  url: string;
  port: number;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit (an outage). */
  kill(): Promise<void>;
  /** Starts the server again on the same port (stopping the current one first if it runs). Data is gone. */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

const READY = "Ready to accept connections";

export function findRedisServer(): string {
  const candidates = [Bun.which("redis-server"), "/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"];
  const hit = candidates.find((p): p is string => !!p && existsSync(p));
  if (!hit) throw new Error("redis-server is not installed: install the Debian package `redis-server` (apt-get install -y redis-server)");
  return hit;
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function startOn(bin: string, port: number, dir: string): Promise<Subprocess<"ignore", "pipe", "pipe"> | undefined> {
  const proc = Bun.spawn(
    [bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--protected-mode", "no", "--loglevel", "notice"],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: childEnv() },
  );
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), proc.exited.then(() => "exited" as const), Bun.sleep(15_000).then(() => "timeout" as const)]);
    if (chunk === "exited" || chunk === "timeout") break;
    if (chunk.done) break;
    seen += decoder.decode(chunk.value);
    if (seen.includes(READY)) {
      reader.releaseLock();
      // Keep draining so the pipe never fills up.
      void proc.stdout.pipeTo(new WritableStream()).catch(() => {});
      void new Response(proc.stderr).text().catch(() => {});
      return proc;
    }
  }
  proc.kill("SIGKILL");
  await proc.exited;
  if (/Address already in use/i.test(seen)) return undefined;
  throw new Error(`redis-server did not start on port ${port}: ${seen.slice(-800)}`);
}

export async function redisForTests(): Promise<TestRedis> {
  const bin = findRedisServer();
  const dir = mkdtempSync(join(tmpdir(), "ds2api-redis-"));
  let port = 0;
  let proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  for (let attempt = 0; attempt < 10 && !proc; attempt++) {
    port = freePort();
    proc = await startOn(bin, port, dir);
  }
  if (!proc) throw new Error("redis-server: no free port after 10 attempts");

  const halt = async (signal: "SIGTERM" | "SIGKILL") => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    if (signal === "SIGTERM") p.kill("SIGCONT"); // a paused server would never act on SIGTERM
    p.kill(signal);
    await Promise.race([p.exited, Bun.sleep(5000)]);
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGKILL");
      await p.exited;
    }
  };
  const untrack = trackStop(`redis-server :${port}`, async () => {
    await halt("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt("SIGTERM");
      await untrack();
    },
    kill: () => halt("SIGKILL"),
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    async restart() {
      await halt("SIGTERM");
      for (let attempt = 0; attempt < 50; attempt++) {
        const p = await startOn(bin, port, dir);
        if (p) {
          proc = p;
          return;
        }
        await Bun.sleep(100);
      }
      throw new Error(`redis-server could not restart on port ${port}`);
    },
  };
}

export interface RedisSuite {
  /** The file's redis-server (after its beforeAll). */
  readonly redis: TestRedis;
  /** A plain client on it, for reading the keys the code under test wrote. */
  readonly raw: RedisClient;
  /** A key prefix no other test of the file uses (`<label><n>:`). */
  prefix(): string;
}

/**
 * One redis-server for a test file: started before its tests (a missing install fails there, naming the package),
 * with a plain client to inspect keys; both stopped after the file.
 */
export function redisForSuite(label: string): RedisSuite {
  let redis: TestRedis | undefined;
  let raw: RedisClient | undefined;
  let seq = 0;
  beforeAll(async () => {
    redis = await redisForTests();
    raw = new RedisClient(redis.url);
    await raw.connect();
  });
  afterAll(async () => {
    raw?.close();
    await redis?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("redisForSuite: used before its beforeAll ran");
    return v;
  };
  return {
    get redis() {
      return started(redis);
    },
    get raw() {
      return started(raw);
    },
    prefix: () => `${label}${++seq}:`,
  };
}
