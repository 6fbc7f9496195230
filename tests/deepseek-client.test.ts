import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PATHS, ReferencePowSolver, SIM_ERRORS, type RunningSimulator } from "../src/sim/index.ts";
import { trackStop } from "./support/processes.ts";
import { startSim } from "./support/sim.ts";
import { DeepSeekClient } from "../src/upstream/deepseek/client.ts";
import { DeepSeekError } from "../src/upstream/deepseek/errors.ts";
import { DEFAULT_CLIENT_IDENTITY, IDENTITY_VERSION_SETTING } from "../src/upstream/deepseek/identity.ts";

let sim: RunningSimulator;
let client: DeepSeekClient;
let token: string;

const PASSWORD = "s3cret-password";

function makeClient(extra: Partial<ConstructorParameters<typeof DeepSeekClient>[0]> = {}) {
  return new DeepSeekClient({
    baseUrl: sim.url, pow: new ReferencePowSolver(), retry: { completionDelayMs: 5, delayMs: 5 },
    uploadPoll: { intervalMs: 10, maxPolls: 60, maxWaitMs: 5000 }, ...extra,
  });
}

async function expectError(p: Promise<unknown>, kind: DeepSeekError["kind"]): Promise<DeepSeekError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeepSeekError);
    expect((e as DeepSeekError).kind).toBe(kind);
    return e as DeepSeekError;
  }
  throw new Error(`expected a ${kind} error`);
}

function completionReq(sessionId: string) {
  return { chatSessionId: sessionId, parentMessageId: null, prompt: "<｜User｜>hi<｜Assistant｜>", refFileIds: [], thinkingEnabled: false, searchEnabled: false, modelType: "default" };
}

beforeAll(async () => {
  sim = await startSim({
    accounts: [{ email: "user@example.com", password: PASSWORD }, { mobile: "13800138000", password: PASSWORD }],
    uploadReadyAfterMs: 40,
  });
  client = makeClient();
  token = (await client.login({ email: "user@example.com", password: PASSWORD })).token;
});
afterAll(() => sim?.stop());

describe("identity and login", () => {
  test("base headers come from the identity settings", async () => {
    const before = sim.state.requests.length;
    await client.createSession(token);
    const h = sim.state.requests[before]!.headers;
    expect(h["user-agent"]).toBe(`DeepSeek/${DEFAULT_CLIENT_IDENTITY.version} Android/35`);
    expect(h["x-client-version"]).toBe("2.0.4");
    expect(h["x-client-platform"]).toBe("android");
    expect(h["x-client-locale"]).toBe("zh_CN");
    expect(h.authorization).toBe(`Bearer ${token}`);
    const custom = makeClient({ identity: { version: "9.9.9" } });
    await custom.createSession(token);
    expect(sim.state.requests.at(-1)!.headers["user-agent"]).toBe("DeepSeek/9.9.9 Android/35");
  });

  test("email login sends device id and os; password trimmed; no authorization header", async () => {
    const before = sim.state.requests.length;
    const r = await client.login({ email: " user@example.com ", password: `  ${PASSWORD}\n`, deviceId: "a1b2c3d4e5f60718" });
    expect(r.token.length).toBeGreaterThan(20);
    const req = sim.state.requests[before]!;
    expect(req.body).toEqual({ email: "user@example.com", password: PASSWORD, device_id: "a1b2c3d4e5f60718", os: "android" });
    expect(req.headers.authorization).toBeUndefined();
  });

  test.each(["13800138000", "+86 138-0013-8000", "8613800138000"])("mobile login %s normalises and sends area_code null", async (mobile) => {
    const before = sim.state.requests.length;
    const r = await client.login({ mobile, password: PASSWORD });
    expect(r.token).toBeString();
    expect(sim.state.requests[before]!.body).toMatchObject({ mobile: "13800138000", area_code: null });
    expect((sim.state.requests[before]!.body as Record<string, unknown>).area_code).toBeNull();
  });

  test("wrong password is an auth error whose message has no password", async () => {
    const e = await expectError(client.login({ email: "user@example.com", password: "wrong-password-value" }), "auth");
    expect(e.message).not.toContain("wrong-password-value");
    expect(e.code).not.toBe(0);
  });

  test("currentUser returns the user", async () => {
    const u = await client.currentUser(token);
    expect(u.email).toBe("user@example.com");
  });
});

describe("errors", () => {
  test("expired / revoked tokens are auth errors (HTTP 200 envelope and 401/403 modes); no token in messages", async () => {
    const t = (await client.login({ email: "user@example.com", password: PASSWORD })).token;
    sim.state.expireToken(t);
    const e = await expectError(client.createSession(t), "auth");
    expect(e.code).toBe(40003);
    expect(e.message).not.toContain(t);
    for (const mode of [401, 403] as const) {
      sim.state.options.authFailure = mode;
      try {
        const e2 = await expectError(client.createSession(t), "auth");
        expect(e2.httpStatus).toBe(mode);
      } finally {
        sim.state.options.authFailure = undefined;
      }
    }
    const empty = await expectError(client.fetchPage(""), "auth");
    expect(empty.code).toBe(40003);
  });

  test("auth-sounding biz error is auth; quota is business", async () => {
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.authBiz);
    await expectError(client.createSession(token), "auth");
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.quota);
    const q = await expectError(client.createSession(token), "business");
    expect(q.message).toContain("quota reached");
  });

  test("CLIENT_VERSION_TOO_LOW names the identity version setting", async () => {
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.clientVersionTooLow);
    const e = await expectError(client.createSession(token), "client_version");
    expect(e.code).toBe(40005);
    expect(e.message).toContain(IDENTITY_VERSION_SETTING);
    expect(e.message).toContain("2.0.4");
  });

  test("a WAF page is a waf error naming the client identity and TLS stack; unknown envelope shapes are protocol errors", async () => {
    sim.state.injectError(PATHS.pow, SIM_ERRORS.wafPage);
    const waf = await expectError(client.createPowChallenge(token, PATHS.completion), "waf");
    expect(waf.httpStatus).toBe(403);
    expect(waf.message).toContain("WAF/challenge page (HTTP 403, HTML)");
    expect(waf.message).toContain(`client identity ${client.identity.appName}/${client.identity.version}`);
    expect(waf.message).toContain("TLS profile: plain (Bun's TLS");
    sim.state.injectError(PATHS.pow, SIM_ERRORS.unknownShape);
    await expectError(client.createPowChallenge(token, PATHS.completion), "protocol");
  });

  test("5xx on session create is retried up to 3 attempts", async () => {
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.badGateway, { times: 2 });
    const before = sim.state.requestsTo(PATHS.createSession).length;
    expect(await client.createSession(token)).toBeString();
    expect(sim.state.requestsTo(PATHS.createSession).length - before).toBe(3);
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.badGateway, { times: 3 });
    const e = await expectError(client.createSession(token), "upstream_http");
    expect(e.httpStatus).toBe(502);
  });

  test("network failure and timeout kinds", async () => {
    const dead = new DeepSeekClient({ baseUrl: "http://127.0.0.1:9", pow: new ReferencePowSolver(), retry: { delayMs: 1 } });
    await expectError(dead.createSession(token), "network");
    // Never answers: only the client's own timeout (or abort) can end these calls.
    const hang = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
    const stopHang = trackStop("hanging server", () => hang.stop(true));
    try {
      const slow = new DeepSeekClient({ baseUrl: `http://127.0.0.1:${hang.port}`, pow: new ReferencePowSolver(), headerTimeoutMs: 50, retry: { attempts: 1 } });
      await expectError(slow.currentUser(token), "timeout");
      const ac = new AbortController();
      const p = slow.currentUser(token, ac.signal);
      ac.abort();
      await expectError(p, "aborted");
    } finally {
      await stopHang();
    }
  });
});

describe("sessions, PoW and streaming calls", () => {
  test("both session variants", async () => {
    sim.state.options.sessionVariant = "chat_session";
    try {
      const id = await client.createSession(token);
      expect(sim.state.sessions.has(id)).toBe(true);
    } finally {
      sim.state.options.sessionVariant = undefined;
    }
    expect(sim.state.sessions.has(await client.createSession(token))).toBe(true);
  });

  test("PoW header is accepted by the simulator; completion returns an SSE Response", async () => {
    const session = await client.createSession(token);
    const pow = await client.powHeader(token, PATHS.completion);
    const decoded = JSON.parse(Buffer.from(pow, "base64").toString());
    expect(Object.keys(decoded).sort()).toEqual(["algorithm", "answer", "challenge", "salt", "signature", "target_path"]);
    expect(typeof decoded.answer).toBe("number");
    const res = await client.completion(token, completionReq(session), { powHeader: pow });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toContain("event: close");
    expect(sim.state.requestsTo(PATHS.completion).at(-1)!.body).toMatchObject({ chat_session_id: session, parent_message_id: null, model_type: "default", ref_file_ids: [] });
  });

  test("a PoW the server rejects surfaces as an error, not a stream", async () => {
    const session = await client.createSession(token);
    const pow = await client.powHeader(token, PATHS.upload);
    const e = await expectError(client.completion(token, completionReq(session), { powHeader: pow }), "business");
    expect(e.message).toContain("pow");
  });

  test("HTTP 200 JSON envelope instead of SSE on completion is classified (auth)", async () => {
    const session = await client.createSession(token);
    const t = (await client.login({ email: "user@example.com", password: PASSWORD })).token;
    const pow = await client.powHeader(t, PATHS.completion);
    sim.state.revokeToken(t);
    await expectError(client.completion(t, completionReq(session), { powHeader: pow }), "auth");
    // Same envelope with an unhelpful content type: detected by its first byte.
    sim.state.script({ http: { status: 200, body: ' {"code":40003,"msg":"Authorization Failed (invalid token)","data":null}', contentType: "application/octet-stream" } });
    await expectError(client.completion(token, completionReq(session)), "auth");
  });

  test("completion 5xx is retried with the same PoW header", async () => {
    const session = await client.createSession(token);
    sim.state.failCompletions(2, 503);
    const before = sim.state.requestsTo(PATHS.completion).length;
    const res = await client.completion(token, completionReq(session));
    await res.text();
    const reqs = sim.state.requestsTo(PATHS.completion).slice(before);
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.headers["x-ds-pow-response"])).size).toBe(1);
    sim.state.failCompletions(3, 503);
    await expectError(client.completion(token, completionReq(session)), "upstream_http");
  });
});

describe("files and session housekeeping", () => {
  test("upload + polling until SUCCESS with the upload headers", async () => {
    const f = await client.uploadFile(token, { data: "hello history", filename: "tmp/DS2API_HISTORY.txt", contentType: "text/plain; charset=utf-8", modelType: "Expert" });
    expect(f.status).toBe("SUCCESS");
    expect(f.id).toMatch(/^file-/);
    const stored = sim.state.files.get(f.id)!;
    expect(stored.name).toBe("DS2API_HISTORY.txt");
    expect(new TextDecoder().decode(stored.bytes)).toBe("hello history");
    expect(stored.headers["x-file-size"]).toBe("13");
    expect(stored.headers["x-model-type"]).toBe("expert");
    expect(stored.headers["x-thinking-enabled"]).toBe("1");
    expect(stored.headers["content-type"]).toStartWith("multipart/form-data");
    expect(sim.state.requestsTo(PATHS.fetchFiles).length).toBeGreaterThan(0);
    const [again] = await client.fetchFiles(token, [f.id]);
    expect(again!.status).toBe("SUCCESS");
    expect(await client.fetchFiles(token, ["file-missing"])).toEqual([]);
  });

  test("failed processing stops polling with an error", async () => {
    sim.state.options.uploadFinalStatus = "FAILED";
    try {
      await expectError(client.uploadFile(token, { data: new Uint8Array([1, 2, 3]) }), "business");
    } finally {
      sim.state.options.uploadFinalStatus = undefined;
    }
  });

  test("poll cap gives a timeout error", async () => {
    sim.state.options.uploadReadyAfterMs = 10_000;
    try {
      const c = makeClient({ uploadPoll: { intervalMs: 5, maxPolls: 3, maxWaitMs: 1000 } });
      await expectError(c.uploadFile(token, { data: "x" }), "timeout");
    } finally {
      sim.state.options.uploadReadyAfterMs = 40;
    }
  });

  test("fetchPage, deleteSession, deleteAllSessions", async () => {
    const t = (await client.login({ mobile: "13800138000", password: PASSWORD })).token;
    const ids = [await client.createSession(t), await client.createSession(t)];
    const page = await client.fetchPage(t);
    expect(page.sessions.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(page.hasMore).toBe(false);
    await client.deleteSession(t, ids[0]!);
    expect(sim.state.sessionCount("13800138000")).toBe(1);
    await client.deleteAllSessions(t);
    expect(sim.state.sessionCount("13800138000")).toBe(0);
    await expectError(client.deleteSession(t, ids[0]!), "business");
  });
});
