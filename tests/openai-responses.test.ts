import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { toolCallMarkup } from "../src/sim/index.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";

let stack: Stack;
let client: OpenAI;
beforeAll(async () => {
  stack = await startStack({ accounts: 1 });
  client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack?.stop());
const lastPrompt = () => (stack.sim.state.requestsTo("/api/v0/chat/completion").at(-1)!.body as { prompt: string }).prompt;

describe("OpenAI Responses API through the official SDK", () => {
  test("non-stream: reasoning item before the message, output_text, usage; instructions become the system prompt", async () => {
    stack.sim.state.script({ thinking: "consider", answer: "Responses work." });
    const r = await client.responses.create({ model: "gpt-5", instructions: "Be brief.", input: "Hello?" });
    expect(r.id).toMatch(/^resp_/);
    expect(r.status).toBe("completed");
    expect(r.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    expect(r.output_text).toBe("Responses work.");
    expect(r.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(lastPrompt()).toContain("Be brief.");
    const fetched = await client.responses.retrieve(r.id);
    expect(fetched.output_text).toBe("Responses work.");
  });

  test("stream via responses.stream(): the SDK accumulator rebuilds the final response", async () => {
    stack.sim.state.script({ thinking: "stream thinking", answer: "Streamed through the Responses API." });
    const stream = client.responses.stream({ model: "gpt-5", input: [{ role: "user", content: "go" }] });
    let deltas = "";
    stream.on("response.output_text.delta", (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    expect(deltas).toBe("Streamed through the Responses API.");
    expect(final.output_text).toBe("Streamed through the Responses API.");
    const reasoning = final.output.find((o) => o.type === "reasoning") as { content?: { text: string }[] };
    expect(reasoning.content![0]!.text).toBe("stream thinking");
    expect(final.status).toBe("completed");
  });

  test("function calls and a follow-up with previous_response_id", async () => {
    const tools = [{ type: "function" as const, name: "lookup", description: "Look up", parameters: { type: "object", properties: { q: { type: "string" } } }, strict: false }];
    stack.sim.state.script({ answer: toolCallMarkup("lookup", { q: "bun" }) });
    const first = await client.responses.create({ model: "gpt-5", input: "find bun", tools });
    const call = first.output.find((o) => o.type === "function_call") as { call_id: string; name: string; arguments: string };
    expect(call.name).toBe("lookup");
    expect(JSON.parse(call.arguments)).toEqual({ q: "bun" });
    stack.sim.state.script({ answer: "Bun is a JavaScript runtime." });
    const second = await client.responses.create({
      model: "gpt-5",
      previous_response_id: first.id,
      tools,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "a fast JS runtime" }],
    });
    expect(second.output_text).toBe("Bun is a JavaScript runtime.");
    const p = lastPrompt();
    expect(p).toContain("find bun");
    expect(p).toContain("a fast JS runtime");
    expect(p).toContain(call.call_id);
  });

  test("unknown previous_response_id → 404; missing input → 400", async () => {
    const e1 = await client.responses.create({ model: "gpt-5", input: "x", previous_response_id: "resp_nope" }).catch((e) => e);
    expect(e1.status).toBe(404);
    const e2 = await client.responses.create({ model: "gpt-5" } as never).catch((e) => e);
    expect(e2.status).toBe(400);
  });
});
