/** Continue-round overlap removal, protocol §4.14 step 4. */
import { describe, expect, test } from "bun:test";
import { ContinueDedupe } from "../src/upstream/deepseek/continue-dedupe.ts";

const long = (s: string) => s.repeat(Math.ceil(40 / s.length)).slice(0, 40); // ≥ 32 code points

describe("ContinueDedupe", () => {
  test("outside continue rounds everything passes through", () => {
    const d = new ContinueDedupe();
    const s = long("abc");
    expect(d.accept("reasoning", s)).toBe(s);
    expect(d.accept("reasoning", s)).toBe(s); // even an exact repeat
    expect(d.collected("reasoning")).toBe(s + s);
  });

  test("snapshot = previous content + new characters → only the new tail", () => {
    const d = new ContinueDedupe();
    const prev = "我们被问到：" + long("推理");
    for (const ch of prev) d.accept("reasoning", ch);
    d.beginRound();
    expect(d.accept("reasoning", prev + "新的", true)).toBe("新的");
    expect(d.accept("reasoning", "继续")).toBe("继续");
    expect(d.collected("reasoning")).toBe(prev + "新的继续");
  });

  test("snapshot shorter than or equal to the collected text is dropped", () => {
    const d = new ContinueDedupe();
    const prev = long("xyz");
    d.accept("text", prev);
    d.beginRound();
    expect(d.accept("text", prev, true)).toBe("");
    expect(d.collected("text")).toBe(prev);
    // the replay cursor is now at the end: further pieces are new text
    expect(d.accept("text", prev.slice(0, 5), true)).toBe(prev.slice(0, 5));

    const e = new ContinueDedupe();
    e.accept("text", prev);
    e.beginRound();
    expect(e.accept("text", prev.slice(0, 5), true)).toBe("");
    expect(e.collected("text")).toBe(prev);
  });

  test("snapshot split over several fragments (one THINK per stage) is matched with a cursor", () => {
    const d = new ContinueDedupe();
    const stage1 = "阶段一的思考。";
    const stage2 = long("阶段二");
    d.accept("reasoning", stage1);
    d.accept("reasoning", stage2);
    d.beginRound();
    expect(d.accept("reasoning", stage1, true)).toBe("");
    expect(d.accept("reasoning", stage2 + "!", true)).toBe("!");
    expect(d.collected("reasoning")).toBe(stage1 + stage2 + "!");
  });

  test("short snapshot pieces are deduplicated too (no length threshold for snapshots)", () => {
    const d = new ContinueDedupe();
    d.accept("text", "园");
    d.beginRound();
    expect(d.accept("text", "园丁", true)).toBe("丁");
  });

  test("reasoning and answer are independent", () => {
    const d = new ContinueDedupe();
    const r = long("r");
    d.accept("reasoning", r);
    d.beginRound();
    expect(d.accept("text", "answer", true)).toBe("answer"); // nothing collected on text yet
    expect(d.accept("reasoning", r + "+", true)).toBe("+");
  });

  describe("untagged pieces follow the reference rule literally", () => {
    const setup = () => {
      const d = new ContinueDedupe();
      const s = long("0123456789");
      d.accept("reasoning", s);
      d.beginRound();
      return { d, s };
    };
    test("fewer than 32 code points → appended even if it repeats", () => {
      const { d, s } = setup();
      expect(d.accept("reasoning", s.slice(0, 10))).toBe(s.slice(0, 10));
    });
    test("32 astral code points (64 UTF-16 units) are not 'short'", () => {
      const d = new ContinueDedupe();
      const s = "😀".repeat(40);
      d.accept("text", s);
      d.beginRound();
      expect(d.accept("text", "😀".repeat(32))).toBe("");
    });
    test("longer and starting with s → the part after s", () => {
      const { d, s } = setup();
      expect(d.accept("reasoning", s + "tail")).toBe("tail");
    });
    test("shorter and a prefix of s → dropped", () => {
      const { d, s } = setup();
      expect(d.accept("reasoning", s.slice(0, 35))).toBe("");
    });
    test("otherwise → appended whole; afterwards the channel is disarmed", () => {
      const { d, s } = setup();
      const other = long("other text ");
      expect(d.accept("reasoning", other)).toBe(other);
      expect(d.accept("reasoning", s + "x")).toBe(s + "x");
    });
  });

  test("a new round re-arms", () => {
    const d = new ContinueDedupe();
    const a = long("a");
    d.accept("text", a);
    d.beginRound();
    expect(d.accept("text", a + "b", true)).toBe("b");
    d.beginRound();
    expect(d.accept("text", a + "bc", true)).toBe("c");
    expect(d.collected("text")).toBe(a + "bc");
  });
});
