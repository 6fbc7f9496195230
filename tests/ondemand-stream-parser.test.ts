/** The OnDemand stream parser on its own: frame kinds, `data:` spacing, [DONE] / [ERROR] forms, bytes split anywhere. */
import { describe, expect, test } from "bun:test";
import { OnDemandStreamParser, parseDataPayload, type OnDemandFrame } from "../src/upstream/ondemand/stream-parser.ts";

describe("parseDataPayload", () => {
  test("frame kinds by eventType", () => {
    expect(parseDataPayload('{"eventType":"fulfillment","answer":" hi ","eventIndex":1}')).toEqual({ type: "text", text: " hi " });
    expect(parseDataPayload('{"eventType":"planning_thinking","thinking":{"delta":"plan"}}')).toEqual({ type: "reasoning", text: "plan" });
    expect(parseDataPayload('{"eventType":"step_thinking","thinking":"plain"}')).toEqual({ type: "reasoning", text: "plain" });
    expect(parseDataPayload('{"eventType":"metricsLog","publicMetrics":{"inputTokens":3,"outputTokens":7}}')).toEqual({ type: "usage", inputTokens: 3, outputTokens: 7 });
    expect(parseDataPayload('{"eventType":"statusLog","currentStatusLog":{"statusType":"fulfillment_completed","answer":"full"}}')).toEqual({ type: "completed", answer: "full" });
    expect(parseDataPayload('{"eventType":"statusLog","currentStatusLog":{"statusType":"agent_started"}}')).toEqual({ type: "status", what: "statusLog:agent_started" });
    expect(parseDataPayload('{"eventType":"planning_output","output":{"delta":"{"}}')).toEqual({ type: "status", what: "planning_output" });
    expect(parseDataPayload('{"sessionId":"s","time":"t"}')).toEqual({ type: "heartbeat" });
    expect(parseDataPayload("not json")).toBeUndefined();
  });

  test("[DONE] with or without spaces; [ERROR] with JSON or raw text", () => {
    expect(parseDataPayload("[DONE]")).toEqual({ type: "done" });
    expect(parseDataPayload(" [DONE] ")).toEqual({ type: "done" });
    const e = parseDataPayload('[ERROR]:{"message":"quota gone","errorCode":"rate_limit_exceeded"}');
    expect(e?.type).toBe("error");
    if (e?.type === "error") {
      expect(e.error.message).toContain("quota gone");
      expect(e.error.errorCode).toBe("rate_limit_exceeded");
    }
    const raw = parseDataPayload("[ERROR]:something broke");
    expect(raw?.type === "error" && raw.error.message).toContain("something broke");
  });
});

describe("OnDemandStreamParser", () => {
  const stream =
    'event:message\ndata:{"eventType":"fulfillment","answer":"你好"}\n\n' +
    ': comment\n' +
    'event:heartbeat\ndata: {"time":"x"}\n\n' +
    'data: {"eventType":"fulfillment","answer":"🌍!"}\r\n\r\n' +
    "data:[DONE]\n\n";

  test("any byte split gives the same frames", () => {
    const bytes = new TextEncoder().encode(stream);
    const expected: OnDemandFrame[] = [{ type: "text", text: "你好" }, { type: "heartbeat" }, { type: "text", text: "🌍!" }, { type: "done" }];
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new OnDemandStreamParser();
      const frames = [...p.push(bytes.slice(0, cut)), ...p.push(bytes.slice(cut)), ...p.end()];
      expect(frames).toEqual(expected);
      expect(p.garbage).toBe(0);
    }
  });

  test("a last line without a newline is still read; garbage lines are counted", () => {
    const p = new OnDemandStreamParser();
    const frames = [...p.push(new TextEncoder().encode("garbage here\ndata:[DONE]")), ...p.end()];
    expect(frames).toEqual([{ type: "done" }]);
    expect(p.garbage).toBe(1);
  });
});
