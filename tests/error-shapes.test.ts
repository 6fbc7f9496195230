/** Upstream-facing statuses (502 / 503 / 504) get each surface's own error type, so SDKs retry or give up as they should. */
import { expect, test } from "bun:test";
import { errorBody } from "../src/api/error-response.ts";

test("502 / 503 / 504 in every surface's own vocabulary", () => {
  const cases: [number, string, string][] = [
    [502, "api_error", "UNAVAILABLE"],
    [503, "service_unavailable_error", "UNAVAILABLE"],
    [504, "api_error", "DEADLINE_EXCEEDED"],
  ];
  for (const [status, openaiType, geminiStatus] of cases) {
    expect(errorBody("openai", status, "m")).toMatchObject({ error: { type: openaiType, message: "m" } });
    expect(errorBody("gemini", status, "m")).toEqual({ error: { code: status, message: "m", status: geminiStatus } });
  }
  expect(errorBody("anthropic", 503, "m")).toEqual({ type: "error", error: { type: "overloaded_error", message: "m" } });
  expect(errorBody("anthropic", 504, "m", "upstream_timeout")).toEqual({ type: "error", error: { type: "api_error", message: "m", code: "upstream_timeout" } });
  expect(errorBody("admin", 503, "m")).toEqual({ detail: "m" });
});
