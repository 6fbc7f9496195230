/**
 * Proof that tests leave no process behind: a child `bun test` runs deliberately broken test files (a failed
 * assertion with a server still running, a timed-out test with a process tree, a beforeAll spawn nobody stops,
 * and a runner killed outright) and afterwards no process carrying the child run's probe tag is left in /proc.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeProcess, PROBE_VAR, processesWithEnv, spawnTracked } from "./support/processes.ts";
import { sourceCommand, spawnServer, until } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const support = join(repoRoot, "tests", "support");

/** A scratch folder holding `files` and a bunfig.toml that loads the real preload, as the repo's does. */
function scratchSuite(files: Record<string, string>): string {
  const dir = tempDir("ds2api-cleanup-proof-");
  dirs.push(dir);
  writeFileSync(join(dir, "bunfig.toml"), `[test]\npreload = [${JSON.stringify(join(support, "preload.ts"))}]\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const imports = `
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { spawnTracked } from ${JSON.stringify(join(support, "processes.ts"))};
import { sourceCommand, spawnServer } from ${JSON.stringify(join(support, "spawn-server.ts"))};
import { repoRoot, tempDir } from ${JSON.stringify(join(support, "test-server.ts"))};
const server = () => spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1", "--db", tempDir() + "/db.sqlite"], { cwd: repoRoot, env: { DS2API_ADMIN_KEY: "k" } });
/** A shell that forks a grandchild: both must go. */
const tree = () => spawnTracked(["bash", "-c", "sleep 1001 & sleep 1002; wait"], { stdout: "ignore", stderr: "ignore" });
`;

/** Runs `bun test` in `dir` with a fresh probe tag; returns the tag, exit code and output. */
async function runChildSuite(dir: string, extraEnv: Record<string, string> = {}) {
  const probe = crypto.randomUUID();
  const proc = spawnTracked([process.execPath, "test"], { cwd: dir, env: { [PROBE_VAR]: probe, ...extraEnv } });
  return { probe, proc };
}

function leftovers(probe: string): string[] {
  return processesWithEnv(PROBE_VAR, probe).map(describeProcess);
}

describe("no test leaves a process behind", () => {
  test("failed assertions, a timed-out test and an unstopped beforeAll spawn: all stopped by the time the run ends", async () => {
    const dir = scratchSuite({
      "broken.test.ts": `${imports}
beforeAll(() => { tree(); }); // never stopped by this file
test("fails with a server running", async () => {
  const srv = await server();
  expect((await fetch(srv.url + "/healthz")).status).toBe(200);
  expect("the assertion").toBe("failing");
});
test("times out with a process tree running", async () => {
  tree();
  await new Promise(() => {});
}, 1500);
`,
    });
    const { probe, proc } = await runChildSuite(dir);
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const log = out + err;
    expect(code).not.toBe(0);
    expect(log).toContain("(fail) fails with a server running");
    expect(log).toContain("(fail) times out with a process tree running");
    // The cleanup did the work (these processes would otherwise run on for ~17 minutes)...
    expect(log).toContain("[cleanup] the test left 1 running");
    expect(log).toContain("[cleanup] left running at the end of the run");
    // ...and nothing tagged survives the runner. Zombies are not counted; reaping can take a moment.
    await until(() => leftovers(probe).length === 0, 10_000, `no leftovers (still running: ${leftovers(probe).join("; ")})`);
  }, 90_000);

  test("a runner killed outright: the reaper and the server's parent watch stop everything it started", async () => {
    const dir = scratchSuite({
      "killed.test.ts": `${imports}
test("starts things, then waits to be killed", async () => {
  await server();
  tree();
  writeFileSync(process.env.DS2API_PROBE_READY!, "ready");
  await new Promise(() => {});
}, 120_000);
`,
    });
    const ready = join(dir, "ready");
    const { probe, proc } = await runChildSuite(dir, { DS2API_PROBE_READY: ready });
    await until(() => existsSync(ready) || proc.exitCode !== null, 60_000, "the child suite to start its processes");
    expect(readFileSync(ready, "utf8")).toBe("ready");
    // The runner, a server, bash and its two sleeps (bash forks its sleeps in its own time).
    await until(() => processesWithEnv(PROBE_VAR, probe).length >= 5, 30_000, "the runner's process tree");
    proc.kill("SIGKILL");
    await proc.exited;
    await until(() => leftovers(probe).length === 0, 20_000, `no leftovers (still running: ${leftovers(probe).join("; ")})`);
  }, 120_000);

  test("the server shuts itself down cleanly when the process named by DS2API_PARENT_PID is gone", async () => {
    const parent = spawnTracked(["sleep", "1000"], { stdout: "ignore", stderr: "ignore" });
    const dir = tempDir("ds2api-parent-watch-");
    dirs.push(dir);
    const srv = await spawnServer([...sourceCommand(), "--port", "0", "--host", "127.0.0.1", "--db", join(dir, "db.sqlite")], {
      cwd: dir,
      env: { DS2API_ADMIN_KEY: "k", DS2API_PARENT_PID: String(parent.pid) },
    });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    parent.kill("SIGKILL");
    await parent.exited;
    // Nobody signals the server: it notices on its own and goes through the normal graceful shutdown.
    expect(await srv.proc.exited).toBe(0);
    expect(srv.stderr()).toContain("shutting down");
  });
});
