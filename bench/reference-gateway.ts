/**
 * The baseline of bench/memory.ts: a lean gateway doing the same upstream work as ds2api for one chat request —
 * session, PoW challenge, PoW solve, completion — and streaming DeepSeek's SSE back unchanged.
 * Usage: bun bench/reference-gateway.ts <port> <simulator url> <email:password>...
 */
import { powPrefixBytes } from "../src/upstream/pow/challenge.ts";
import { powResponseHeader } from "../src/upstream/pow/header.ts";
import { defaultPowKernelFlavor, PowKernel, powKernelScalarModule, powKernelSimdModule, targetLanes } from "../src/upstream/pow/kernel.ts";
import type { PowChallenge } from "../src/upstream/pow/types.ts";

const [port, upstream, ...logins] = process.argv.slice(2);
// The same wasm hash kernel ds2api's workers run, here on the main thread: the PoW costs both gateways alike.
const kernel = new PowKernel(defaultPowKernelFlavor() === "simd" ? powKernelSimdModule()! : powKernelScalarModule());
const solver = {
  async solve(c: PowChallenge): Promise<number | null> {
    kernel.setPrefix(powPrefixBytes(c));
    return kernel.solve(targetLanes(c.challenge), 0, c.difficulty);
  },
};
type Envelope = { data: { biz_data: Record<string, unknown> } };

async function call(path: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${upstream}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
}
const biz = async (r: Response) => ((await r.json()) as Envelope).data.biz_data;

const tokens: string[] = [];
for (const login of logins) {
  const [email, password] = login.split(":");
  const data = await biz(await call("/api/v0/users/login", "", { email, password, device_id: "bench" }));
  tokens.push((data.user as { token: string }).token);
}
let next = 0;

Bun.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/readyz") return Response.json({ status: "ready" });
    if (path !== "/v1/chat/completions" || req.method !== "POST") return new Response("not found", { status: 404 });
    const body = (await req.json()) as { messages: { role: string; content: string }[] };
    const token = tokens[next++ % tokens.length]!;
    const session = await biz(await call("/api/v0/chat_session/create", token, { character_id: null }));
    const sessionId = ((session.chat_session as { id: string } | undefined)?.id ?? session.id) as string;
    const challenge = (await biz(await call("/api/v0/chat/create_pow_challenge", token, { target_path: "/api/v0/chat/completion" }))).challenge as PowChallenge;
    const answer = await solver.solve(challenge);
    const prompt = body.messages.map((m) => m.content).join("\n");
    const completion = await call(
      "/api/v0/chat/completion",
      token,
      { chat_session_id: sessionId, parent_message_id: null, prompt, ref_file_ids: [], thinking_enabled: true, search_enabled: false },
      { "x-ds-pow-response": powResponseHeader(challenge, answer ?? 0) },
    );
    return new Response(completion.body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  },
});
