/** Binds the tool-calling implementation (src/core/toolcalls) to the executor's ToolKit interface. */
import { renderToolCallHistory, renderToolPrompt, renderToolResult, ToolCallSieve } from "../toolcalls/index.ts";
import type { ToolKit } from "./execute-turn.ts";

export const defaultToolKit: ToolKit = {
  renderToolPrompt: (tools, choice) => renderToolPrompt(tools, choice),
  renderToolCalls: (calls) => renderToolCallHistory(calls),
  renderToolResult: (r) => renderToolResult({ name: r.name, callId: r.callId, content: r.content }),
  createSieve: (tools) => new ToolCallSieve(tools),
};
