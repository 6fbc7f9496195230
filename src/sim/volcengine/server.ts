/**
 * The fake Volcengine Ark console: `POST /ark/bff/api/<region>/<version>/<Action>` (any region, version
 * `2024-01-29` or `2024`), the BFF envelope for unknown actions, the x-web-id / authorization checks, the
 * per-web-id quota, both body casings, scripted streams and faults. Test hook: `POST /__sim/reset-quota`.
 */
import { bffEnvelope, envelopeResponse, wafPage } from "./envelope.ts";
import { SIM_MODELS, VolcSimState, type VolcFault, type VolcRequestRecord, type VolcSimOptions } from "./state.ts";
import { writeReply, type StreamSink } from "./stream.ts";

export const VOLC_CHAT_PATH = "/ark/bff/api/cn-beijing/2024-01-29/Chat";
const ROUTE = /^\/ark\/bff\/api\/([a-z0-9-]+)\/(2024-01-29|2024)\/([A-Za-z]+)$/;
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

export interface RunningVolcSimulator {
  url: string;
  /** The default `Chat` URL on this simulator (VOLCENGINE_API_URL). */
  chatUrl: string;
  port: number;
  state: VolcSimState;
  stop(): Promise<void>;
}

export async function startVolcengineSimulator(opts: VolcSimOptions = {}): Promise<RunningVolcSimulator> {
  const state = new VolcSimState(opts);
  const server = Bun.serve({ port: opts.port ?? 0, hostname: opts.hostname ?? "127.0.0.1", idleTimeout: 0, fetch: (req) => handle(state, req) });
  const url = `http://${server.hostname}:${server.port}`;
  return { url, chatUrl: `${url}${VOLC_CHAT_PATH}`, port: server.port!, state, stop: () => server.stop(true) };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function messagesOf(body: Obj): { role: string; content: string }[] | undefined {
  const raw = body.Messages ?? body.messages;
  if (!Array.isArray(raw)) return undefined;
  return raw.filter(isObj).map((m) => ({ role: String(m.Role ?? m.role ?? ""), content: typeof (m.Content ?? m.content) === "string" ? String(m.Content ?? m.content) : JSON.stringify(m.Content ?? m.content) }));
}

function faultResponse(f: VolcFault, action: string, region: string, version: string): Response | "drop" {
  switch (f.kind) {
    case "http":
      return new Response(f.body, { status: f.status, headers: { "content-type": f.contentType ?? "text/plain", ...f.headers } });
    case "waf":
      return wafPage(f.status);
    case "envelope":
      return envelopeResponse(bffEnvelope(action, region, version, f.code, f.message), f.httpStatus ?? 200, f.realStatus);
    case "drop":
      return "drop";
  }
}

async function handle(state: VolcSimState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (req.method === "POST" && url.pathname === "/__sim/reset-quota") {
    state.resetQuota(url.searchParams.get("web_id") ?? undefined);
    return Response.json({ ok: true });
  }
  const m = ROUTE.exec(url.pathname);
  const headers = Object.fromEntries(req.headers.entries());
  const text = await req.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  const record: VolcRequestRecord = { at: Date.now(), path: url.pathname, action: m?.[3] ?? "", headers, body, webId: headers["x-web-id"], outcome: "" };
  state.requests.push(record);
  const answer = (outcome: string, res: Response) => {
    record.outcome = outcome;
    return res;
  };
  if (!m) return answer("not_found", envelopeResponse(bffEnvelope("", "", "", "InvalidActionOrVersion", `no route ${url.pathname}`), 404, 404));
  const [, region, version, action] = m as unknown as [string, string, string, string];
  const env = (code: string, message: string, httpStatus: number, realStatus?: number) => answer(code, envelopeResponse(bffEnvelope(action, region, version, code, message), httpStatus, realStatus));
  if (req.method !== "POST") return env("InvalidHTTPMethod", "only POST", 405, 405);
  if (action !== "Chat") return env("InvalidActionOrVersion", `action ${action} is not served by this simulator`, 404, 404);

  // --- browser headers (strict risk-control mode) ---
  if (state.strictHeaders) {
    const ua = headers["user-agent"] ?? "";
    if (!ua.includes("Mozilla/") || /bun|node|undici/i.test(ua) || !headers.origin || !headers.referer) return answer("waf", wafPage(403));
  }
  // --- auth ---
  const webId = headers["x-web-id"];
  const expected = webId ? state.authorizations[webId] ?? state.authorization : state.authorization;
  const auth = headers.authorization;
  const authOk = Boolean(webId) && (!state.webIds || state.webIds.has(webId!)) && (expected === null || (expected === undefined ? Boolean(auth) : auth === expected));
  if (!authOk) {
    if (state.authFailure === "csrf") return env("InvalidCSRFToken", "csrf token is invalid", 200, 403);
    if (state.authFailure === "http") return env("AccessDenied", "access denied: invalid web id or authorization", 403);
    return env("AccessDenied", "access denied: invalid web id or authorization", 200, 403);
  }
  // --- faults ---
  const fault = state.takeFault(webId!);
  if (fault) {
    const res = faultResponse(fault, action, region, version);
    if (res === "drop") {
      record.outcome = "drop";
      // Erroring the body before the first byte makes Bun drop the connection.
      return new Response(new ReadableStream({ start: (c) => c.error(undefined) }), { headers: SSE_HEADERS });
    }
    return answer(fault.kind === "envelope" ? fault.code : fault.kind, res);
  }
  // --- body ---
  if (!isObj(body)) return env("InvalidParameter", "body must be a JSON object", 200, 400);
  const model = String(body.Model ?? body.model ?? "");
  const messages = messagesOf(body);
  record.model = model;
  record.messages = messages;
  if (!(SIM_MODELS as readonly string[]).includes(model)) return env("InvalidParameter.Model", `unknown model ${JSON.stringify(model)}`, 200, 400);
  if (!messages?.length) return env("InvalidParameter.Messages", "messages must be a non-empty list", 200, 400);
  // --- quota ---
  if (!state.use(webId!)) {
    const q = state.quotaError;
    if (q.placement === "envelope") return env(q.code, q.message, q.httpStatus, q.realStatus);
    record.outcome = q.code;
    return new Response(`data: ${JSON.stringify({ ResponseMetadata: { Action: action, Error: { Code: q.code, Message: q.message } } })}\n\n`, { headers: SSE_HEADERS });
  }
  const lastUser = [...messages].reverse().find((x) => x.role.toLowerCase() === "user")?.content ?? "";
  const reply = state.nextReply({ webId: webId!, model, lastUserText: lastUser });
  record.outcome = "stream";
  if (reply.headerDelayMs) await Bun.sleep(reply.headerDelayMs);
  return streamResponse(req, reply, model, record);
}

function streamResponse(req: Request, reply: Parameters<typeof writeReply>[1], model: string, record: VolcRequestRecord): Response {
  const encoder = new TextEncoder();
  let cancelled = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  req.signal.addEventListener("abort", () => (cancelled = true), { once: true });
  const sink: StreamSink = {
    write(s) {
      if (cancelled || !controllerRef) return;
      try {
        controllerRef.enqueue(encoder.encode(s));
      } catch {
        cancelled = true;
      }
    },
    sleep: (ms) => Bun.sleep(ms),
    cut() {
      cancelled = true;
      controllerRef?.error(undefined);
    },
    get cancelled() {
      return cancelled;
    },
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      void (async () => {
        const how = await writeReply(sink, reply, model).catch(() => "cancelled" as const);
        record.streamEnd = how === "ended" && cancelled ? "cancelled" : how;
        if (how === "ended" && !cancelled) {
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        }
      })();
    },
    cancel() {
      cancelled = true;
    },
  });
  return new Response(stream, { headers: SSE_HEADERS });
}
