/** The Ollama surface in front of the other two upstreams: `ollama` npm client as the caller, provider/model names. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { OD_API_KEY, odModel, startOdStack, type OdStack } from "./support/ondemand-stack.ts";
import { startVolcStack, VOLC_API_KEY, volcModel, type VolcStack } from "./support/volc-stack.ts";

let volc: VolcStack;
let od: OdStack;
beforeAll(async () => {
  [volc, od] = await Promise.all([startVolcStack(), startOdStack()]);
});
afterAll(async () => {
  await Promise.all([volc?.stop(), od?.stop()]);
});

describe("Ollama /api/chat on every provider", () => {
  test("Volcengine: streamed chat with thinking, the console's reasoning as message.thinking", async () => {
    volc.sim.state.script({ reasoning: "Counting on fingers.", answer: "Four." });
    const client = new Ollama({ host: volc.url, headers: { Authorization: `Bearer ${VOLC_API_KEY}` } });
    let thinking = "";
    let content = "";
    let last: { done: boolean; done_reason?: string; model: string } | undefined;
    for await (const part of await client.chat({ model: volcModel("deepseek-r1"), stream: true, think: true, messages: [{ role: "user", content: "2+2?" }] })) {
      thinking += part.message.thinking ?? "";
      content += part.message.content;
      last = part;
    }
    expect(thinking).toBe("Counting on fingers.");
    expect(content).toBe("Four.");
    expect(last).toMatchObject({ done: true, done_reason: "stop", model: volcModel("deepseek-r1") });
  });

  test("OnDemand: non-stream chat and generate", async () => {
    od.sim.state.script({ answer: "Hello from OnDemand." }, { answer: "Generated." });
    const client = new Ollama({ host: od.url, headers: { Authorization: `Bearer ${OD_API_KEY}` } });
    const chat = await client.chat({ model: `${odModel("gpt-4o")}:latest`, stream: false, messages: [{ role: "user", content: "hi" }] });
    expect(chat.message.content).toBe("Hello from OnDemand.");
    expect(chat.done_reason).toBe("stop");
    const gen = await client.generate({ model: odModel("gpt-4o"), prompt: "say it", stream: false });
    expect(gen.response).toBe("Generated.");
  });
});
