/** Helpers for the fault tests: raw requests on every surface, SSE error frames, account states via /admin. */
import { API_KEY, type Stack } from "./stack.ts";
import { deepseekEngine } from "./deepseek-engine.ts";

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function post(stack: Stack, path: string, body: unknown): Promise<RawAnswer> {
  const r = await fetch(stack.url + path, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export const chat = (stack: Stack, content: string, stream = false) =>
  post(stack, "/v1/chat/completions", { model: "deepseek-v4-flash-nothinking", stream, messages: [{ role: "user", content }] });

export const claude = (stack: Stack, content: string, stream = false) =>
  post(stack, "/anthropic/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 50, stream, messages: [{ role: "user", content }] });

export const gemini = (stack: Stack, content: string, stream = false) =>
  post(stack, `/v1beta/models/gemini-2.5-flash:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`, { contents: [{ role: "user", parts: [{ text: content }] }] });

/** The JSON payloads of the `data:` lines of an SSE body. */
export function sseData(text: string): any[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("data: {"))
    .map((l) => JSON.parse(l.slice(6)));
}

/** The in-stream error payload of a stream (OpenAI / Gemini `{error}`, Anthropic `{type:"error"}`). */
export function streamError(text: string): any {
  return sseData(text).find((d) => d.error !== undefined || d.type === "error");
}

export function streamedText(text: string): string {
  return sseData(text)
    .map((d) => d.choices?.[0]?.delta?.content ?? d.delta?.text ?? d.candidates?.[0]?.content?.parts?.map((p: { text?: string }) => p.text ?? "").join("") ?? "")
    .join("");
}

/** Account states as the admin API shows them. */
export async function accountStates(stack: Stack): Promise<Record<string, string>> {
  const r = await fetch(`${stack.url}/admin/accounts?page_size=100`, { headers: { authorization: "Bearer e2e-admin" } });
  const items = ((await r.json()) as { items: { identifier: string; status: string }[] }).items;
  return Object.fromEntries(items.map((a) => [a.identifier, a.status]));
}

/** Clears every cool-down and sim fault between tests. */
export function resetFaults(stack: Stack): void {
  stack.sim.state.clearScripts();
  stack.sim.state.clearFaults();
  stack.sim.state.setDefaultReply({ answer: "fine" });
  const engine = deepseekEngine(stack.server.ctx);
  for (const a of engine.accounts.list()) engine.pool.markHealthy(a.identifier);
}

export async function poolIdle(stack: Stack): Promise<void> {
  await stack.sim.state.waitFor(() => deepseekEngine(stack.server.ctx).pool.status().inUse === 0 && deepseekEngine(stack.server.ctx).pool.status().waiting === 0, 5000);
}
