/** Binds the tool-calling implementation (src/core/toolcalls) to the executor's ToolKit interface. */
import type { ToolKit } from "./execute-turn.ts";

// Interim binding until the tool-call module lands: tools are not offered and text passes through.
export const defaultToolKit: ToolKit = {
  renderToolPrompt: () => "",
  renderToolCalls: () => "",
  renderToolResult: (r) => r.content,
  createSieve: () => ({ push: (delta) => [{ type: "text", text: delta }], end: () => [] }),
};
