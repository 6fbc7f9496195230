/**
 * Start-up phase trace, off unless DS2API_START_TRACE is set: each mark prints, on stderr, the milliseconds
 * since the process started (performance.timeOrigin) and the CPU milliseconds the process has used so far (user +
 * system, every thread: a figure that machine load barely moves). Imported first by src/main.ts, so its first mark is
 * taken before the rest of the module graph loads. Used by bench/startup.ts --phases.
 */
const enabled = Boolean(process.env.DS2API_START_TRACE);

export function startMark(phase: string): void {
  if (!enabled) return;
  const cpu = process.cpuUsage();
  process.stderr.write(`start-trace ${performance.now().toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)} ${phase}\n`);
}

if (enabled) process.stderr.write(`start-trace-origin ${performance.timeOrigin}\n`);
startMark("runtime ready (first module)");
