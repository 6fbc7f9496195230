/** The DeepSeek simulator, registered for cleanup (tests/support/processes.ts): stopped after the test that started
 *  it, or at the end of the run when started in beforeAll, even if the test fails or times out first. */
import { startSimulator, type RunningSimulator, type SimOptions } from "../../src/sim/index.ts";
import { trackStop } from "./processes.ts";

export async function startSim(opts: SimOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator(opts);
  const stop = trackStop(`simulator ${sim.url}`, () => sim.stop());
  return { ...sim, stop };
}
