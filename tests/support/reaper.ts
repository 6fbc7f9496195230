/**
 * Detached watchdog started once per `bun test` run (tests/support/preload.ts):
 *   bun tests/support/reaper.ts <runner pid> <marker>
 * When the runner process is gone (however it died) it kills every process whose environment carries
 * DS2API_TEST_RUN=<marker>, then exits. It carries no marker itself.
 */
import { MARKER_VAR, processesWithEnv } from "./processes.ts";

const [runnerArg, marker] = process.argv.slice(2);
const runner = Number(runnerArg);
if (!Number.isInteger(runner) || runner <= 0 || !marker) {
  process.stderr.write("usage: reaper.ts <runner pid> <marker>\n");
  process.exit(2);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

while (alive(runner)) await Bun.sleep(500);
// Two sweeps: a child that was just forking when the first sweep ran is caught by the second.
for (let i = 0; i < 2; i++) {
  for (const pid of processesWithEnv(MARKER_VAR, marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await Bun.sleep(200);
}
process.exit(0);
