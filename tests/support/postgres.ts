/**
 * A real Postgres for tests: ONE server per test process, started on first use in a temp folder on a free port
 * (initdb + pg_ctl, no fsync: it holds only test data), stopped at the end of the run even when tests fail (a
 * whole-run trackStop; the postmaster also carries this run's marker, so the reaper kills it if the runner dies).
 * Each test file / describe takes its own database with `freshDatabase()`.
 *
 * Binaries come from PATH, /usr/lib/postgresql/<version>/bin or /usr/local/bin. When Postgres is not installed the
 * caller fails with a message naming the Debian package; nothing is skipped. As root (CI), initdb and the server run
 * as the `postgres` user (else `nobody`) through setpriv, since initdb refuses root.
 */
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnTracked, trackStop } from "./processes.ts";

export interface TestPostgres {
  port: number;
  /** The `postgres` maintenance database, user ds2 (trust auth, no password). */
  adminUrl: string;
  /** Creates a new, empty database and returns its URL. */
  freshDatabase(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

const NEEDED = ["initdb", "pg_ctl", "postgres"];

/** Folders that may hold the server binaries, best first. */
function candidateDirs(): string[] {
  const versioned: string[] = [];
  try {
    for (const v of readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))) versioned.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // not there
  }
  const path = (process.env.PATH ?? "").split(":").filter(Boolean);
  return [...path, ...versioned, "/usr/local/bin"];
}

/** The folder holding initdb, pg_ctl and postgres; throws naming the package to install when none does. */
export function findPostgresBinaries(tried: string[] = candidateDirs()): string {
  const dir = tried.find((d) => NEEDED.every((b) => existsSync(join(d, b))));
  if (!dir) {
    throw new Error(
      `Postgres is not installed: the Postgres tests need ${NEEDED.join(", ")} (Debian/Ubuntu: apt-get install postgresql). Looked in: ${[...new Set(tried)].join(", ")}`,
    );
  }
  return dir;
}

/** [uid, gid] of a user from /etc/passwd. */
function userIds(name: string): [number, number] | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[0] === name) return [Number(f[2]), Number(f[3])];
    }
  } catch {
    // no passwd file
  }
  return undefined;
}

/** How to run the server binaries: as is, or (as root) as an unprivileged user that owns `dir`. */
function runAs(dir: string): string[] {
  if (process.getuid?.() !== 0) return [];
  for (const user of ["postgres", "nobody"]) {
    const ids = userIds(user);
    if (!ids) continue;
    chownSync(dir, ids[0], ids[1]);
    return ["setpriv", `--reuid=${ids[0]}`, `--regid=${ids[1]}`, "--clear-groups"];
  }
  throw new Error("running as root and neither the postgres nor the nobody user exists: initdb refuses to run as root");
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function run(cmd: string[], what: string): Promise<void> {
  const proc = spawnTracked(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${(err || out).trim().slice(-2000)}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function start(): Promise<TestPostgres> {
  const bin = findPostgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), "ds2api-pg-"));
  const as = runAs(dir);
  const data = join(dir, "data");
  try {
    await run([...as, join(bin, "initdb"), "-D", data, "-U", "ds2", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], "initdb");
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const port = await freePort();
  const serverOptions = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  let postmaster = 0;
  const removeDir = () => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a file the exiting server was still writing; the second call (after it exited) gets it
    }
  };
  const stop = trackStop(
    `postgres for tests (port ${port})`,
    async () => {
      // Immediate shutdown (no checkpoint: the data is thrown away), sent synchronously so it also happens from
      // the process-exit hook.
      if (postmaster > 0 && alive(postmaster)) {
        try {
          process.kill(postmaster, "SIGQUIT");
        } catch {
          // gone
        }
        // Synchronous up to the removal: on a SIGTERM / exit of the runner nothing after the first await runs.
        // An immediate shutdown takes milliseconds.
        const end = Date.now() + 3000;
        while (alive(postmaster) && Date.now() < end) Bun.sleepSync(10);
        if (alive(postmaster)) process.kill(postmaster, "SIGKILL");
      }
      removeDir();
    },
    { wholeRun: true },
  );
  try {
    await run([...as, join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "start", "-o", serverOptions], "pg_ctl start");
    postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch (e) {
    let log = "";
    try {
      log = readFileSync(join(dir, "server.log"), "utf8").slice(-2000);
    } catch {
      // no log
    }
    await stop();
    throw new Error(`${(e as Error).message}${log ? `\nserver log:\n${log}` : ""}`);
  }
  const adminUrl = `postgres://ds2@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    port,
    adminUrl,
    async freshDatabase(prefix = "t") {
      const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 30)}_${++n}_${crypto.randomUUID().slice(0, 8)}`;
      const admin = new SQL(adminUrl, { max: 1 });
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.close();
      }
      return `postgres://ds2@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}

let started: Promise<TestPostgres> | undefined;

/** The run's Postgres (started on the first call). */
export function postgresForTests(): Promise<TestPostgres> {
  return (started ??= start().then((pg) => ({
    ...pg,
    async stop() {
      started = undefined;
      await pg.stop();
    },
  })));
}
