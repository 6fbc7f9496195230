/**
 * Start-up phase trace, off unless DS2API_START_TRACE is set. Each mark prints on stderr: the milliseconds since
 * the process started (performance.timeOrigin), the CPU milliseconds the whole process has used so far (user +
 * system, every thread: a figure that machine load barely moves), and, on Linux, those of the main thread alone
 * (/proc schedstat; the JIT and GC threads work beside it). Imported first by src/main.ts, so its first mark is
 * taken before the rest of the module graph loads. Read by bench/startup.ts --phases.
 */
import { readFileSync } from "node:fs";

const enabled = Boolean(process.env.DS2API_START_TRACE);

function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

export function startMark(phase: string): void {
  if (!enabled) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`start-trace ${performance.now().toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)} ${mainThreadCpuMs().toFixed(1)} ${phase}\n`);
}

if (enabled) process.stderr.write(`start-trace-origin ${performance.timeOrigin}\n`);
startMark("runtime ready (first module)");
