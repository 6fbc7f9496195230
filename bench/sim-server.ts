/**
 * The DeepSeek simulator as a separate process for bench/memory.ts (so its memory is not counted): N accounts,
 * low PoW difficulty, a reply streamed in 8-character tokens every `--token-ms` ms. Prints its URL on stdout.
 * Usage: bun bench/sim-server.ts [--accounts 4] [--difficulty 2000] [--token-ms 10]
 */
import { startSimulator } from "../src/sim/index.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const accounts = Array.from({ length: arg("--accounts", 4) }, (_, i) => ({ email: `bench${i}@example.com`, password: `pw-${i}` }));
const sim = await startSimulator({ powDifficulty: arg("--difficulty", 2000), accounts });
sim.state.setDefaultReply({
  thinking: "Let me think about this benchmark question for a moment. ".repeat(6),
  answer: "This is a benchmark answer streamed in small pieces, long enough to keep the stream open. ".repeat(8),
  chunking: 8,
  tokenDelayMs: arg("--token-ms", 10),
});
console.log(sim.url);
process.on("SIGTERM", () => sim.stop().then(() => process.exit(0)));
