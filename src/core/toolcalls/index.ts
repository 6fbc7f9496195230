export type * from "./types.ts";
export { normalizeTools, normalizeToolChoice, selectTools, toolChoiceViolation, type ToolSelection } from "./normalize.ts";
export { renderToolPrompt } from "./prompt.ts";
export { renderToolCallHistory, renderToolResult } from "./history.ts";
export { parseToolCalls, type ParseResult } from "./parse.ts";
export { ToolCallSieve } from "./sieve.ts";
export { ReasoningCallSieve } from "./reasoning-sieve.ts";
export { coerceToSchema } from "./schema.ts";
