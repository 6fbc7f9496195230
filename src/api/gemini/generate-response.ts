/** Canonical turn events → Gemini GenerateContentResponse objects. */
import { randomBytes } from "node:crypto";
import type { FinishReason, ToolCallOut } from "../../core/turn/turn.ts";
import type { Usage } from "../../core/usage/usage.ts";

export const newResponseId = () => randomBytes(12).toString("base64url");

export function geminiFinishReason(f: FinishReason): string {
  return f === "length" ? "MAX_TOKENS" : f === "content_filter" ? "SAFETY" : "STOP";
}

export function usageMetadata(u: Usage) {
  const candidates = u.completionTokens - u.reasoningTokens;
  return {
    promptTokenCount: u.promptTokens,
    candidatesTokenCount: candidates,
    ...(u.reasoningTokens ? { thoughtsTokenCount: u.reasoningTokens } : {}),
    totalTokenCount: u.promptTokens + u.completionTokens,
  };
}

export const functionCallPart = (c: ToolCallOut) => ({ functionCall: { id: c.id, name: c.name, args: c.arguments } });

export function responseChunk(o: { responseId: string; model: string; parts: unknown[]; finishReason?: string; usage?: Usage }) {
  const candidate: Record<string, unknown> = { content: { role: "model", parts: o.parts }, index: 0 };
  if (o.finishReason) candidate.finishReason = o.finishReason;
  return {
    candidates: [candidate],
    ...(o.usage ? { usageMetadata: usageMetadata(o.usage) } : {}),
    modelVersion: o.model,
    responseId: o.responseId,
  };
}

export function generateContentBody(o: { responseId: string; model: string; text: string; reasoning: string; toolCalls: ToolCallOut[]; finishReason: FinishReason; usage: Usage }) {
  const parts: unknown[] = [];
  if (o.reasoning) parts.push({ text: o.reasoning, thought: true });
  if (o.text || !o.toolCalls.length) parts.push({ text: o.text });
  for (const c of o.toolCalls) parts.push(functionCallPart(c));
  return responseChunk({ responseId: o.responseId, model: o.model, parts, finishReason: geminiFinishReason(o.finishReason), usage: o.usage });
}
