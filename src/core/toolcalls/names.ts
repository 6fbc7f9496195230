/** Matching a name the model wrote against the declared tools (exact, then case-insensitive, then without a namespace prefix). */
import type { ToolSpec } from "./types.ts";

export function resolveTool(name: string, tools: readonly ToolSpec[]): ToolSpec | undefined {
  const exact = tools.find((t) => t.name === name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const ci = tools.filter((t) => t.name.toLowerCase() === lower);
  if (ci.length === 1) return ci[0];
  const dot = name.lastIndexOf(".");
  if (dot > 0 && dot < name.length - 1) return resolveTool(name.slice(dot + 1), tools);
  return undefined;
}
