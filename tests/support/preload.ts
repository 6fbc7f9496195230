/**
 * Loaded before every test file (bunfig.toml [test] preload): no test leaves a process or server behind.
 * See tests/support/processes.ts for the registry.
 */
import { afterAll, afterEach, beforeEach } from "bun:test";
import { enterTest, killEverythingSync, leaveTest, runMarker, stopEverything, stopTestScoped } from "./processes.ts";

// The reaper outlives a runner that is killed outright and then kills whatever carries this run's marker.
const reaper = Bun.spawn([process.execPath, new URL("./reaper.ts", import.meta.url).pathname, String(process.pid), runMarker], {
  detached: true,
  stdio: ["ignore", "ignore", "ignore"],
  env: { PATH: process.env.PATH ?? "" },
});
reaper.unref();

beforeEach(() => enterTest());
afterEach(async () => {
  leaveTest();
  const left = await stopTestScoped();
  if (left.length) console.warn(`[cleanup] the test left ${left.length} running, stopped now: ${left.join("; ")}`);
});
afterAll(async () => {
  const left = await stopEverything();
  if (left.length) console.warn(`[cleanup] left running at the end of the run, stopped now: ${left.join("; ")}`);
});

process.on("exit", () => killEverythingSync());
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.on(signal, () => {
    killEverythingSync();
    process.exit(code);
  });
}
