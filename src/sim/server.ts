/** The fake chat.deepseek.com: one Bun.serve fetch handler serving the §2 paths on one base URL. */
import { bizError, challengePage, codeError, injectedErrorResponse, okEnvelope } from "./envelope.ts";
import { publicChallenge } from "./pow-issuer.ts";
import { buildPlan } from "./reply-plan.ts";
import type { MessageModel } from "./round-writer.ts";
import { lastUserText, type ReplyContext, type ReplyScript } from "./reply-script.ts";
import { byteChunks, splitReplayRounds } from "./replay.ts";
import { writeRound, type FrameSink } from "./round-writer.ts";
import { SimState, type RequestLogEntry, type SimAccount, type SimFile, type SimMessage, type SimOptions, type SimSession } from "./state.ts";

export const PATHS = {
  login: "/api/v0/users/login",
  current: "/api/v0/users/current",
  createSession: "/api/v0/chat_session/create",
  pow: "/api/v0/chat/create_pow_challenge",
  completion: "/api/v0/chat/completion",
  continue: "/api/v0/chat/continue",
  upload: "/api/v0/file/upload_file",
  fetchFiles: "/api/v0/file/fetch_files",
  fetchPage: "/api/v0/chat_session/fetch_page",
  deleteSession: "/api/v0/chat_session/delete",
  deleteAll: "/api/v0/chat_session/delete_all",
} as const;

/** What a muted user may no longer do (reading and deleting its sessions still works). */
const MUTED_PATHS = new Set<string>([PATHS.createSession, PATHS.completion, PATHS.continue, PATHS.upload]);

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

export interface RunningSimulator {
  url: string;
  port: number;
  state: SimState;
  /** Stop listening (connections are refused) until `acceptConnections`; the state is kept. */
  refuseConnections(): Promise<void>;
  /** Listen again on the same port. */
  acceptConnections(): void;
  stop(): Promise<void>;
}

export async function startSimulator(opts: SimOptions = {}): Promise<RunningSimulator> {
  const state = new SimState(opts);
  const listen = (port: number) =>
    Bun.serve({
      port,
      hostname: opts.hostname ?? "127.0.0.1",
      idleTimeout: 0,
      fetch: (req) => handle(state, req),
    });
  let server: ReturnType<typeof listen> | undefined = listen(opts.port ?? 0);
  const port = server.port!;
  const url = `http://${server.hostname}:${port}`;
  return {
    url,
    port,
    state,
    refuseConnections: async () => {
      const s = server;
      server = undefined;
      await s?.stop(true);
    },
    acceptConnections: () => {
      server ??= listen(port);
    },
    stop: async () => {
      await server?.stop(true);
      server = undefined;
    },
  };
}

/** Sleeps, ending early when the client goes away. */
function sleepUnlessGone(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function headersRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

async function readBody(req: Request): Promise<{ body: unknown; form?: FormData }> {
  if (req.method === "GET" || req.method === "HEAD") return { body: null };
  const ct = req.headers.get("content-type") ?? "";
  if (ct.startsWith("multipart/form-data")) {
    try {
      const form = await req.formData();
      const parts: unknown[] = [];
      form.forEach((v, name) => {
        if (typeof v === "string") parts.push({ name, value: v });
        else parts.push({ name, filename: v.name, type: v.type, size: v.size });
      });
      return { body: { parts }, form };
    } catch {
      return { body: { malformedMultipart: true } };
    }
  }
  const text = await req.text();
  try {
    return { body: text ? JSON.parse(text) : null };
  } catch {
    return { body: text };
  }
}

function authFailure(state: SimState, code: 40002 | 40003): Response {
  const mode = state.options.authFailure ?? "envelope";
  const msg = code === 40002 ? "Missing Token" : "Authorization Failed (invalid token)";
  return codeError(code, msg, mode === "envelope" ? 200 : mode);
}

function authenticate(state: SimState, req: Request): SimAccount | Response {
  const h = req.headers.get("authorization");
  if (!h) return authFailure(state, 40002);
  const m = /^Bearer\s+(.+)$/i.exec(h);
  const acc = m ? state.tokenAccount(m[1]!.trim()) : undefined;
  return acc ?? authFailure(state, 40003);
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function powReject(state: SimState, reason: string): Response {
  state.counters.powRejected++;
  const status = state.options.powRejectStatus;
  return status ? Response.json({ code: 40301, msg: `invalid pow: ${reason}`, data: null }, { status }) : bizError(40301, `invalid pow: ${reason}`);
}

function versionBelow(v: string, min: string): boolean {
  const a = v.split(".").map((x) => parseInt(x, 10) || 0);
  const b = min.split(".").map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

async function handle(state: SimState, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  const { body, form } = await readBody(req);
  const entry: RequestLogEntry = {
    at: Date.now(), method: req.method, path, query: Object.fromEntries(url.searchParams), headers: headersRecord(req.headers), body,
  };
  state.requests.push(entry);
  const outage = state.currentOutage();
  if (outage) return injectedErrorResponse(outage);

  if (path === PATHS.login && req.method === "POST") return login(state, asRecord(body));

  const known = (Object.values(PATHS) as string[]).includes(path);
  if (!known) return new Response("not found", { status: 404 });
  const acc = authenticate(state, req);
  if (acc instanceof Response) return acc;
  entry.accountId = acc.id;
  const fault = state.accountFault(acc.id);
  if (fault) return injectedErrorResponse(fault);
  const injected = state.takeInjectedError(path);
  if (injected) return injectedErrorResponse(injected);
  if (state.isMuted(acc.id) && MUTED_PATHS.has(path)) return bizError(5, "USER_MUTED");

  const b = asRecord(body);
  switch (path) {
    case PATHS.current:
      return okEnvelope({ id: acc.id, token: req.headers.get("authorization")!.replace(/^Bearer\s+/i, ""), email: acc.email ?? "", mobile_number: acc.mobile ?? "", area_code: acc.mobile ? "+86" : "", status: 0 });
    case PATHS.createSession:
      return createSession(state, acc);
    case PATHS.pow: {
      const target = typeof b.target_path === "string" ? b.target_path : "";
      if (target !== PATHS.completion && target !== PATHS.upload) return bizError(40001 + 299, "invalid target_path");
      state.counters.powIssued++;
      return okEnvelope({ challenge: publicChallenge(state.pow.issue(target, acc.id)) });
    }
    case PATHS.completion:
      return completion(state, req, acc, b);
    case PATHS.continue:
      return continueChat(state, req, acc, b);
    case PATHS.upload:
      return upload(state, req, acc, form);
    case PATHS.fetchFiles: {
      const ids = (url.searchParams.get("file_ids") ?? "").split(",").filter(Boolean);
      const files = ids.map((id) => state.files.get(id)).filter((f): f is SimFile => !!f && f.accountId === acc.id);
      return okEnvelope({ files: files.map(fileObject) });
    }
    case PATHS.fetchPage: {
      const list = [...state.sessions.values()].filter((s) => s.accountId === acc.id).sort((x, y) => y.updatedAt - x.updatedAt);
      return okEnvelope({
        chat_sessions: list.map((s) => ({ id: s.id, title: s.title, title_type: s.titleType, pinned: s.pinned, updated_at: s.updatedAt })),
        has_more: false,
      });
    }
    case PATHS.deleteSession: {
      const s = state.sessions.get(String(b.chat_session_id ?? ""));
      if (!s || s.accountId !== acc.id) return bizError(40400, "chat session not found");
      state.sessions.delete(s.id);
      state.counters.sessionsDeleted++;
      return okEnvelope(null);
    }
    case PATHS.deleteAll: {
      for (const s of [...state.sessions.values()]) {
        if (s.accountId === acc.id) {
          state.sessions.delete(s.id);
          state.counters.sessionsDeleted++;
        }
      }
      return okEnvelope(null);
    }
  }
  return new Response("method not allowed", { status: 405 });
}

function login(state: SimState, b: Record<string, unknown>): Response {
  const injected = state.takeInjectedError(PATHS.login);
  if (injected) return injectedErrorResponse(injected);
  const password = typeof b.password === "string" ? b.password : "";
  let acc: SimAccount | undefined;
  if (typeof b.email === "string" && b.email) acc = state.magicAccount(b.email, password) ?? state.findAccount(b.email);
  else if (typeof b.mobile === "string" && b.mobile) {
    if (b.area_code !== null && b.area_code !== undefined) return bizError(2, "invalid area code");
    acc = state.findAccount(b.mobile);
  } else return bizError(1, "email or mobile required");
  if (!acc || acc.password !== password) return bizError(3, "wrong password or account not found");
  const fault = state.accountFault(acc.id);
  if (fault) return injectedErrorResponse(fault);
  const refusal = state.loginDeviceRefusal(acc.id, typeof b.device_id === "string" ? b.device_id : "");
  if (refusal) return injectedErrorResponse(refusal);
  state.counters.logins++;
  const token = state.issueToken(acc.id);
  return okEnvelope({ code: 0, msg: "", user: { id: acc.id, token, email: acc.email ?? "", mobile_number: acc.mobile ?? "", area_code: acc.mobile ? "+86" : "" } });
}

function createSession(state: SimState, acc: SimAccount): Response {
  const s: SimSession = {
    id: crypto.randomUUID(), accountId: acc.id, title: "", titleType: "DEFAULT", pinned: false,
    updatedAt: Date.now() / 1000, lastMessageId: 0, messages: new Map(),
  };
  state.sessions.set(s.id, s);
  state.counters.sessionsCreated++;
  if (state.nextSessionVariant() === "id") return okEnvelope({ id: s.id, seq_id: state.counters.sessionsCreated, agent: "chat" });
  return okEnvelope({ chat_session: { id: s.id, seq_id: state.counters.sessionsCreated, agent: "chat", title: null, title_type: "DEFAULT", model_type: "default", updated_at: s.updatedAt, inserted_at: s.updatedAt } });
}

function fileObject(f: SimFile): Record<string, unknown> {
  const ready = Date.now() >= f.readyAt;
  const status = ready ? f.finalStatus : "PENDING";
  const o: Record<string, unknown> = {
    id: f.id, status, file_name: f.name, from_share: false, file_size: f.size, model_kind: "NORMAL",
    token_usage: ready && status === "SUCCESS" ? Math.max(1, Math.ceil(f.size / 4)) : null,
    error_code: ready && status !== "SUCCESS" ? "PARSE_FAILED" : null,
    inserted_at: f.insertedAt, updated_at: ready ? f.readyAt / 1000 : f.insertedAt, is_image: f.contentType.startsWith("image/"), audit_result: null,
  };
  if (ready && status === "SUCCESS") o.signed_path = `/file?file_id=${f.id}&state=sim`;
  return o;
}

async function upload(state: SimState, req: Request, acc: SimAccount, form: FormData | undefined): Promise<Response> {
  const pow = state.pow.verify(req.headers.get("x-ds-pow-response"), PATHS.upload, { consume: true, singleUse: !!state.options.powSingleUse });
  if (!pow.ok) return powReject(state, pow.reason);
  if (!form) return bizError(40010, "multipart body required");
  const entries: [string, FormDataEntryValue][] = [];
  form.forEach((v, k) => entries.push([k, v]));
  if (entries.length !== 1 || entries[0]![0] !== "file" || typeof entries[0]![1] === "string") return bizError(40011, "exactly one file part required");
  const file = entries[0]![1] as File;
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (req.headers.get("x-file-size") !== String(bytes.length)) return bizError(40012, "file size mismatch");
  const now = Date.now();
  const f: SimFile = {
    id: `file-${crypto.randomUUID()}`, accountId: acc.id, name: file.name || "upload.bin", size: bytes.length,
    contentType: file.type || "application/octet-stream", bytes, insertedAt: now / 1000,
    readyAt: now + (state.options.uploadReadyAfterMs ?? 30), finalStatus: state.options.uploadFinalStatus ?? "SUCCESS",
    headers: headersRecord(req.headers),
  };
  state.files.set(f.id, f);
  state.counters.uploads++;
  return okEnvelope(fileObject(f));
}

async function completion(state: SimState, req: Request, acc: SimAccount, b: Record<string, unknown>): Promise<Response> {
  const failStatus = state.takeCompletionFailure();
  if (failStatus) return new Response(`<html><body>${failStatus}</body></html>`, { status: failStatus, headers: { "content-type": "text/html" } });
  const pow = state.pow.verify(req.headers.get("x-ds-pow-response"), PATHS.completion, { consume: true, singleUse: !!state.options.powSingleUse });
  if (!pow.ok) return powReject(state, pow.reason);
  const session = state.sessions.get(String(b.chat_session_id ?? ""));
  if (!session || session.accountId !== acc.id) return bizError(40400, "chat session not found");
  const parent = b.parent_message_id ?? null;
  if (parent !== null) {
    if (typeof parent !== "number" || !session.messages.has(parent)) return bizError(40401, "parent message not found");
  } else if (session.lastMessageId !== 0) return bizError(40402, "parent_message_id required for a later turn");
  const refIds = Array.isArray(b.ref_file_ids) ? b.ref_file_ids : [];
  for (const id of refIds) {
    const f = typeof id === "string" ? state.files.get(id) : undefined;
    if (!f || f.accountId !== acc.id) return bizError(40403, `file not found: ${String(id)}`);
  }
  const prompt = typeof b.prompt === "string" ? b.prompt : "";
  const thinkingEnabled = b.thinking_enabled === true;
  const searchEnabled = b.search_enabled === true;
  const modelType = typeof b.model_type === "string" ? b.model_type : "default";
  state.counters.completions++;

  const ctx: ReplyContext = {
    prompt, lastUserText: lastUserText(prompt), payload: b, accountId: acc.id, accountLogin: acc.email ?? acc.mobile ?? acc.id,
    sessionId: session.id, thinkingEnabled, searchEnabled, modelType, refFileIds: refIds as string[],
    refFiles: (refIds as string[]).map((id) => state.files.get(id)!).map((f) => ({ id: f.id, name: f.name, size: f.size, contentType: f.contentType })),
    parentMessageId: parent as number | null,
    completionNumber: state.counters.completions,
  };
  const reply = state.nextReply();
  let script: ReplyScript = (typeof reply === "function" ? await reply(ctx) : reply) ?? {};
  if (typeof reply === "function" && !script) script = {};

  // Rate limit: a normal-looking stream with no answer (or an explicit error).
  const rl = state.options.rateLimit;
  if (rl) {
    const times = (state.completionTimes.get(acc.id) ?? []).filter((t) => Date.now() - t < rl.windowMs);
    times.push(Date.now());
    state.completionTimes.set(acc.id, times);
    if (times.length > rl.max) {
      if (rl.mode === "http429") return Response.json({ code: 42900, msg: "rate limit", data: null }, { status: 429 });
      if (rl.mode === "envelope") return bizError(42900, "rate limit reached");
      script = { ...script, answer: "", thinking: rl.mode === "reasoning_only" ? script.thinking ?? "…" : [], tip: null };
    }
  }
  const clientVersion = req.headers.get("x-client-version") ?? "0";
  if (state.options.minClientVersionForExpert && modelType === "expert" && versionBelow(clientVersion, state.options.minClientVersionForExpert)) {
    script = { answer: "", thinking: [], tip: null, title: null };
  }
  if (script.headerDelayMs) await sleepUnlessGone(script.headerDelayMs, req.signal);
  if (script.waf) {
    const vendor = script.waf.vendor ?? "cloudflare";
    return new Response(challengePage(vendor), { status: script.waf.status ?? (vendor === "aliyun" ? 405 : 403), headers: { "content-type": "text/html; charset=utf-8" } });
  }
  if (script.emptyBody) return new Response("", { status: 200, headers: SSE_HEADERS });
  if (script.malformed) {
    const lines = Array.isArray(script.malformed) ? script.malformed : ["<<not an event stream>>", "{broken json", "data: {not json either", "", "garbage: yes", ""];
    return new Response(lines.map((l) => `${l}\n`).join(""), { status: 200, headers: SSE_HEADERS });
  }
  if (script.http) return new Response(script.http.body ?? "", { status: script.http.status, headers: { "content-type": script.http.contentType ?? "text/plain" } });
  if (script.envelope) return injectedErrorResponse(script.envelope);

  const requestMessageId = session.lastMessageId + 1;
  const responseMessageId = requestMessageId + 1;
  session.lastMessageId = responseMessageId;
  session.updatedAt = Date.now() / 1000;
  const firstTurn = requestMessageId === 1;
  const model: MessageModel = {
    requestMessageId, responseMessageId, modelType, thinkingEnabled, searchEnabled, insertedAt: Date.now() / 1000,
    firstTurn, fragments: [], tokensSent: 0, hasPending: false,
  };
  const msg: SimMessage = { model, nextRound: 0, totalRounds: 1, ended: false };
  if (script.replay) {
    const text = script.replay.text ?? (await Bun.file(script.replay.file!).text());
    msg.replayRounds = splitReplayRounds(text);
    msg.replayChunkBytes = script.replay.chunkBytes ?? 4093;
    msg.replayDelayMs = script.tokenDelayMs ?? 0;
    msg.totalRounds = msg.replayRounds.length;
  } else {
    msg.plan = buildPlan(script, ctx);
    msg.totalRounds = msg.plan.cuts.length + 1;
    if (firstTurn && msg.plan.title) session.title = msg.plan.title;
  }
  session.messages.set(responseMessageId, msg);
  return streamRound(state, req, acc, session, msg, PATHS.completion);
}

async function continueChat(state: SimState, req: Request, acc: SimAccount, b: Record<string, unknown>): Promise<Response> {
  const failStatus = state.takeCompletionFailure();
  if (failStatus) return new Response(`<html><body>${failStatus}</body></html>`, { status: failStatus, headers: { "content-type": "text/html" } });
  // Continue accepts a completion PoW and may reuse the completion's (§2.6).
  const pow = state.pow.verify(req.headers.get("x-ds-pow-response"), PATHS.completion, { consume: false, singleUse: false });
  if (!pow.ok) return powReject(state, pow.reason);
  const session = state.sessions.get(String(b.chat_session_id ?? ""));
  if (!session || session.accountId !== acc.id) return bizError(40400, "chat session not found");
  const msg = typeof b.message_id === "number" ? session.messages.get(b.message_id) : undefined;
  if (!msg) return bizError(40401, "message not found");
  if (msg.nextRound >= msg.totalRounds) return bizError(40404, "message is not incomplete");
  state.counters.continues++;
  return streamRound(state, req, acc, session, msg, PATHS.continue);
}

function streamRound(state: SimState, req: Request, acc: SimAccount, session: SimSession, msg: SimMessage, path: string): Response {
  const round = msg.nextRound++;
  const rec = state.openStream(path, acc.id, session.id);
  const encoder = new TextEncoder();
  let cancelled = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  let buf = "";
  const flush = () => {
    if (buf && !cancelled && controllerRef) {
      try {
        controllerRef.enqueue(encoder.encode(buf));
      } catch {
        cancelled = true;
      }
    }
    buf = "";
  };
  const onAbort = () => {
    cancelled = true;
    state.closeStream(rec, "cancelled");
  };
  req.signal.addEventListener("abort", onAbort, { once: true });
  const sink: FrameSink = {
    write(s) {
      buf += s;
      if (buf.length > 65536) flush();
    },
    async sleep(ms) {
      flush();
      await Bun.sleep(ms);
    },
    disconnect() {
      flush();
      cancelled = true;
      state.closeStream(rec, "cut");
      // Erroring the body makes Bun drop the socket (the client sees ECONNRESET); `undefined` keeps it out of the logs.
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
        let outcome: "ended" | "aborted" = "ended";
        try {
          if (msg.replayRounds) {
            for (const piece of byteChunks(msg.replayRounds[round] ?? "", msg.replayChunkBytes ?? 4093)) {
              if (cancelled) break;
              controller.enqueue(piece);
              if (msg.replayDelayMs) await Bun.sleep(msg.replayDelayMs);
              else await Promise.resolve();
            }
          } else {
            outcome = await writeRound(sink, msg.plan!, round, msg.model);
          }
          flush();
        } catch {
          outcome = "aborted";
        }
        req.signal.removeEventListener("abort", onAbort);
        if (rec.outcome === "open") state.closeStream(rec, cancelled ? "cancelled" : outcome === "ended" ? "completed" : "cut");
        if (msg.nextRound >= msg.totalRounds) msg.ended = true;
        session.updatedAt = Date.now() / 1000;
        try {
          controller.close();
        } catch {
          /* already errored or cancelled */
        }
      })();
    },
    cancel() {
      cancelled = true;
      state.closeStream(rec, "cancelled");
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}
