/**
 * Loaded before every test file (bunfig.toml [test] preload): no test leaves a process or server behind.
 * See tests/support/processes.ts for the registry.
 */
import { afterAll, afterEach, beforeEach, setDefaultTimeout } from "bun:test";
import { enterTest, killEverythingSync, leaveTest, runMarker, stopEverything, stopTestScoped } from "./processes.ts";

// Bun's default is 5 s per test and bunfig.toml has no setting for it. Integration tests start real servers and
// processes: a generous bound that only a hung test reaches, so a loaded machine is slow, not red.
setDefaultTimeout(60_000);

/** Per-test (and per-hook) timeout: generous, only a hung test reaches it, so a loaded machine is slow, not red. */
export const TEST_TIMEOUT_MS = 60_000;

// Bun's default timeout is 5 s, bunfig.toml has no setting for it, and setDefaultTimeout() only holds for the file
// that calls it. So every test file calls it first: prepended on its first line (line numbers stay as they are).
Bun.plugin({
  name: "ds2api-test-timeout",
  setup(build) {
    build.onLoad({ filter: /\.test\.ts$/ }, async ({ path }) => ({
      contents: `import { setDefaultTimeout as __setDefaultTimeout } from "bun:test"; __setDefaultTimeout(${TEST_TIMEOUT_MS}); ${await Bun.file(path).text()}`,
      loader: "ts",
    }));
  },
});

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
