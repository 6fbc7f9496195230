/**
 * Everything a test starts is registered here so it is stopped even when the test fails or times out:
 *
 * - child processes (Bun.spawn through `spawnTracked`) carry DS2API_TEST_RUN=<this runner's marker> in their
 *   environment, which their own children inherit, so a whole process tree can be found in /proc;
 * - in-process servers register a stop function with `trackStop`.
 *
 * tests/support/preload.ts (bunfig [test] preload) wires the hooks: whatever a test body started is stopped in a
 * global afterEach (bun runs afterEach even after a timeout, when the body's own `finally` never runs); whatever
 * is left at the end of the run, on exit and on SIGINT/SIGTERM is killed; and a detached reaper
 * (tests/support/reaper.ts) kills every marked process if the runner itself dies (SIGKILL, OOM). Our own server
 * also gets DS2API_PARENT_PID and shuts itself down when the runner is gone.
 */
import type { SpawnOptions, Subprocess } from "bun";
import { readdirSync, readFileSync } from "node:fs";

export const MARKER_VAR = "DS2API_TEST_RUN";
/** Optional extra tag a caller sets on a whole `bun test` run; passed on to every child (used to prove cleanup). */
export const PROBE_VAR = "DS2API_TEST_PROBE";

/** Unique to this runner process (a nested `bun test` gets its own). */
export const runMarker = `${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
process.env[MARKER_VAR] = runMarker;

type Scope = "test" | "run";
interface Entry {
  label: string;
  scope: Scope;
  /** Meant to live until the end of the run: stopped then without a "left running" warning. */
  wholeRun?: boolean;
  /** Stops it at once (SIGKILL for processes). */
  kill(): Promise<void>;
  /** Synchronous best effort, for process exit. */
  killSync(): void;
}

const entries = new Set<Entry>();
let scope: Scope = "run";

/** Called by the preload hooks: things started while a test body runs belong to that test. */
export function enterTest(): void {
  scope = "test";
}
export function leaveTest(): void {
  scope = "run";
}

/** The environment every child gets: a minimal PATH/HOME, the run marker, the parent watch, then `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    [MARKER_VAR]: runMarker,
    DS2API_PARENT_PID: String(process.pid),
  };
  const probe = process.env[PROBE_VAR];
  if (probe) env[PROBE_VAR] = probe;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Pids of `root` and all its descendants (read from /proc before anything is killed). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of safeReaddir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = safeRead(`/proc/${pid}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Live (non-zombie) processes whose environment holds `name=value`. */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const out: number[] = [];
  for (const entry of safeReaddir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = safeRead(`/proc/${pid}/environ`);
    if (!env || !env.split("\0").includes(needle)) continue;
    const stat = safeRead(`/proc/${pid}/stat`);
    if (stat && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") continue;
    out.push(pid);
  }
  return out;
}

/** One line per process: pid and command line, for messages about leftovers. */
export function describeProcess(pid: number): string {
  const cmd = (safeRead(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean).join(" ");
  return `${pid} ${cmd.length > 160 ? `${cmd.slice(0, 160)}…` : cmd}`;
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Registers a spawned process; it leaves the registry when it exits. */
export function trackProcess<T extends Subprocess>(proc: T, label: string): T {
  const killTree = () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    killPids(processTree(proc.pid));
  };
  const entry: Entry = {
    label: `${label} (pid ${proc.pid})`,
    scope,
    async kill() {
      killTree();
      await Promise.race([proc.exited, Bun.sleep(5000)]);
    },
    killSync: killTree,
  };
  entries.add(entry);
  void proc.exited.then(() => entries.delete(entry));
  return proc;
}

/** Bun.spawn with the run marker and parent watch in the environment, registered for cleanup. */
export function spawnTracked<const In extends SpawnOptions.Writable = "ignore", const Out extends SpawnOptions.Readable = "pipe", const Err extends SpawnOptions.Readable = "pipe">(
  cmd: string[],
  opts: Omit<SpawnOptions.OptionsObject<In, Out, Err>, "env"> & { env?: Record<string, string | undefined> } = {},
): Subprocess<In, Out, Err> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", ...opts, env: childEnv(opts.env) } as SpawnOptions.OptionsObject<In, Out, Err>);
  return trackProcess(proc, cmd.slice(0, 2).join(" "));
}

/**
 * Registers an in-process server (or anything with a stop function). Returns a stop that runs once and
 * unregisters; use it in place of the original. `wholeRun`: shared by every test of the run (stopped at its end,
 * even when first started inside a test body).
 */
export function trackStop(label: string, stop: () => unknown, o: { wholeRun?: boolean } = {}): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => (done ??= (async () => {
    entries.delete(entry);
    await stop();
  })());
  const entry: Entry = {
    label,
    scope: o.wholeRun ? "run" : scope,
    wholeRun: o.wholeRun,
    async kill() {
      await Promise.race([once().catch(() => {}), Bun.sleep(5000)]);
    },
    killSync() {
      void once().catch(() => {});
    },
  };
  entries.add(entry);
  return once;
}

/** Stops what the current test started and did not stop; returns what was left. */
export async function stopTestScoped(): Promise<string[]> {
  const left = [...entries].filter((e) => e.scope === "test");
  await Promise.all(left.map((e) => e.kill()));
  return left.map((e) => e.label);
}

/** Stops everything still registered and kills every process carrying this run's marker. */
export async function stopEverything(): Promise<string[]> {
  const left = [...entries];
  await Promise.all(left.map((e) => e.kill()));
  const marked = processesWithEnv(MARKER_VAR, runMarker);
  const labels = [...left.filter((e) => !e.wholeRun).map((e) => e.label), ...marked.map(describeProcess)];
  killPids(marked);
  return labels;
}

/** Synchronous variant for process exit and signals. */
export function killEverythingSync(): void {
  for (const e of entries) e.killSync();
  killPids(processesWithEnv(MARKER_VAR, runMarker));
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}
