/** Stand-alone entry for `ds2api pow` (tests and benchmarks; the real CLI dispatches from src/main.ts). */
import { runPowCommand } from "./pow.ts";

process.exit(await runPowCommand(process.argv.slice(2), Bun.stdin.stream()));
