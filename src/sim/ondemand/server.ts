/**
 * The fake OnDemand Chat API under `/chat/v1` (other-providers.md §B.5): `apikey` auth, `POST /sessions`,
 * `POST /sessions/{id}/query` in sync and stream mode, the documented `{message, errorCode}` errors, faults per
 * key, quotas, stalls, cut and truncated streams. Independent of the DeepSeek simulator.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { roughTokens, streamSteps, type StreamStep } from "./frames.ts";
import { OdSimState, type OdFault, type OdSimOptions } from "./state.ts";

export const OD_BASE_PATH = "/chat/v1";

export interface RunningOnDemandSim {
  /** The API base to give ds2api (ONDEMAND_API_BASE). */
  apiBase: string;
  url: string;
  state: OdSimState;
  stop(): Promise<void>;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function apiError(status: number, errorCode: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { message, errorCode }, headers);
}

const DEFAULT_CODES: Record<number, string> = {
  400: "invalid_request", 401: "unauthenticated", 403: "unauthorized", 404: "not_found", 429: "rate_limit_exceeded",
  500: "server_error", 502: "bad_gateway", 503: "resource_unavailable", 504: "plugin_execution_timeout",
};

function faultResponse(f: OdFault): Response {
  const headers: Record<string, string> = f.retryAfter ? { "retry-after": f.retryAfter } : {};
  if (f.html) return new Response(`<html><head><title>${f.status} Error</title></head><body><h1>${f.status}</h1></body></html>`, { status: f.status, headers: { "content-type": "text/html", ...headers } });
  return apiError(f.status, f.errorCode ?? DEFAULT_CODES[f.status] ?? "server_error", f.message ?? `simulated ${f.status}`, headers);
}

function mongoId(): string {
  return randomBytes(12).toString("hex");
}

export async function startOnDemandSimulator(opts: OdSimOptions = {}): Promise<RunningOnDemandSim> {
  const state = new OdSimState(opts);
  const server = Bun.serve({ port: opts.port ?? 0, hostname: opts.hostname ?? "127.0.0.1", idleTimeout: 0, fetch: (req) => handle(state, req) });
  const url = `http://${server.hostname}:${server.port}`;
  return { apiBase: `${url}${OD_BASE_PATH}`, url, state, stop: () => server.stop(true) };
}

async function handle(state: OdSimState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  const apikey = req.headers.get("apikey") ?? undefined;
  let body: unknown;
  try {
    body = req.method === "POST" ? await req.json() : undefined;
  } catch {
    body = undefined;
  }
  const queryMatch = /^\/chat\/v1\/sessions\/([^/]+)\/query$/.exec(path);
  const rec = state.record({ method: req.method, path, apikey, body, sessionId: queryMatch?.[1] });
  const answer = async (r: Response | Promise<Response>) => {
    const res = await r;
    rec.status = res.status;
    return res;
  };
  if (req.method !== "POST" || (path !== `${OD_BASE_PATH}/sessions` && !queryMatch)) {
    return answer(req.method !== "POST" && (path === `${OD_BASE_PATH}/sessions` || queryMatch) ? apiError(405, "method_not_allowed", "method not allowed") : json(404, { message: "no Route matched with those values" }));
  }
  if (apikey === undefined) return answer(apiError(401, "unauthenticated", "No API key found in request"));
  if (apikey === "") return answer(apiError(500, "server_error", "An unexpected error occurred"));
  if (!state.keys.has(apikey)) return answer(apiError(401, "unauthenticated", "Invalid authentication credentials"));
  if (state.disabledKeys.has(apikey)) return answer(apiError(403, "unauthorized", "This API key is disabled"));
  if (!body || typeof body !== "object") return answer(apiError(400, "invalid_request", "request body must be JSON"));
  const b = body as Record<string, unknown>;

  if (!queryMatch) {
    if (state.sessionCreate404 > 0) {
      state.sessionCreate404--;
      return answer(json(404, { message: "no Route matched with those values" }));
    }
    const fault = state.takeFault(apikey, "session");
    if (fault) return answer(faultResponse(fault));
    if (typeof b.externalUserId !== "string" || !b.externalUserId) return answer(apiError(400, "invalid_request", "externalUserId is required"));
    const id = mongoId();
    state.sessions.set(id, { id, key: apikey, queries: [] });
    const now = new Date().toISOString();
    return answer(
      json(state.sessionCreateStatus, {
        message: "Session created successfully",
        data: { id, companyId: mongoId(), externalUserId: b.externalUserId, pluginIds: b.pluginIds ?? [], agentIds: b.agentIds ?? [], contextMetadata: b.contextMetadata ?? [], title: "", createdBy: mongoId(), createdAt: now, updatedAt: now },
      }),
    );
  }

  const session = state.sessions.get(queryMatch[1]!);
  if (!session) return answer(apiError(404, "not_found", "Session not found"));
  // Whether another key of the same company may use a session is unconfirmed (§B.6): the fake refuses it.
  if (session.key !== apikey) return answer(apiError(403, "unauthorized", "Session belongs to another API key"));
  if (typeof b.query !== "string" || typeof b.endpointId !== "string" || typeof b.responseMode !== "string") return answer(apiError(400, "invalid_request", "query, endpointId and responseMode are required"));
  if (!["sync", "stream", "webhook"].includes(b.responseMode)) return answer(apiError(400, "invalid_request", `invalid responseMode ${b.responseMode}`));
  if (!state.endpoints.has(b.endpointId)) return answer(apiError(400, "invalid_request", `invalid endpointId ${b.endpointId}`));
  if (state.inactiveEndpoints.has(b.endpointId)) return answer(apiError(503, "resource_unavailable", `endpoint ${b.endpointId} is inactive`));
  const mc = b.modelConfigs as Record<string, unknown> | undefined;
  if (mc && mc.stopSequences !== undefined && !Array.isArray(mc.stopSequences)) return answer(apiError(400, "invalid_request", "stopSequences must be an array"));
  const fault = state.takeFault(apikey, "query");
  if (fault) return answer(faultResponse(fault));
  if (!state.takeQuota(apikey)) return answer(apiError(429, "rate_limit_exceeded", "Quota exceeded for this API key"));
  session.queries.push(b.query);
  const script = state.nextReply({ query: b.query, endpointId: b.endpointId, apikey });
  if (script.headerDelayMs) await Bun.sleep(script.headerDelayMs);
  const ids = { sessionId: session.id, messageId: mongoId() };
  if (b.responseMode !== "stream") {
    if (script.delayMs) await Bun.sleep(script.delayMs);
    return answer(
      json(200, {
        message: "Query submitted successfully",
        data: { ...ids, answer: script.answer, status: "completed", metrics: { inputTokens: roughTokens(b.query), outputTokens: roughTokens(script.answer), totalTokens: 0 } },
      }),
    );
  }
  let finished = false;
  req.signal.addEventListener("abort", () => {
    if (!finished) rec.cancelled = true;
  }, { once: true });
  return answer(streamResponse(streamSteps(script, ids, b.query), script.writes ?? "frame", req.signal, () => (finished = true)));
}

function streamResponse(steps: StreamStep[], writes: "frame" | "split" | "coalesced", signal: AbortSignal, onFinished: () => void): Response {
  const enc = new TextEncoder();
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  let pending: Uint8Array[] = [];
  const flush = () => {
    for (const p of pending) controllerRef?.enqueue(p);
    pending = [];
  };
  const write = async (text: string) => {
    const bytes = enc.encode(text);
    if (writes === "coalesced") {
      pending.push(bytes);
      return;
    }
    if (writes === "split" && bytes.length > 3) {
      // An odd boundary: often inside a multi-byte character.
      const at = Math.floor(bytes.length / 2) | 1;
      controllerRef?.enqueue(bytes.slice(0, at));
      await Bun.sleep(1);
      controllerRef?.enqueue(bytes.slice(at));
      return;
    }
    controllerRef?.enqueue(bytes);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controllerRef = c;
    },
    async pull(c) {
      try {
        for (const step of steps) {
          if (signal.aborted) return;
          switch (step.kind) {
            case "write":
              await write(step.text);
              break;
            case "sleep":
              flush();
              await Bun.sleep(step.ms);
              break;
            case "stall": {
              flush();
              const until = Date.now() + step.ms;
              while (Date.now() < until && !signal.aborted) {
                const wait = Math.min(step.heartbeatMs ?? step.ms, until - Date.now());
                await Bun.sleep(Math.max(1, wait));
                if (step.heartbeatMs && Date.now() < until) c.enqueue(enc.encode(`event:heartbeat\ndata:${JSON.stringify({ time: new Date().toISOString() })}\n\n`));
              }
              break;
            }
            case "cut":
              flush();
              await Bun.sleep(30);
              // Erroring the body makes Bun drop the socket (the client sees a reset).
              c.error(undefined);
              return;
            case "end":
              flush();
              onFinished();
              c.close();
              return;
          }
        }
        flush();
        onFinished();
        c.close();
      } catch {
        // the client went away
      }
    },
  });
  return new Response(stream, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-request-id": randomUUID() } });
}
