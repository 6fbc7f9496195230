import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PATHS, ReferencePowSolver, runSimCommand, SIM_ERRORS, splitReplayRounds, type RunningSimulator } from "../src/sim/index.ts";
import { startSim } from "./support/sim.ts";
import { deepSeekHashV1, powMessage } from "../src/upstream/pow/reference-hash.ts";
import type { PowChallenge } from "../src/upstream/pow/types.ts";
import { FIXTURES_URL } from "./support/fixtures.ts";
import { waitUntil } from "./support/wait.ts";

const FIXTURES = new URL("upstream/", FIXTURES_URL);
const solver = new ReferencePowSolver();

let sim: RunningSimulator;
let token: string;

function headerFor(c: PowChallenge, answer: number, patch: Record<string, unknown> = {}): string {
  return Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, salt: c.salt, answer, signature: c.signature, target_path: c.target_path, ...patch })).toString("base64");
}

async function call(path: string, body: unknown, headers: Record<string, string> = {}, tok: string | null = token): Promise<Response> {
  const h: Record<string, string> = { "content-type": "application/json", ...headers };
  if (tok) h.authorization = `Bearer ${tok}`;
  return fetch(sim.url + path, { method: "POST", headers: h, body: JSON.stringify(body) });
}

async function json(path: string, body: unknown, headers: Record<string, string> = {}, tok: string | null = token): Promise<any> {
  return (await call(path, body, headers, tok)).json();
}

async function challenge(target: string = PATHS.completion, tok = token): Promise<PowChallenge> {
  return (await json(PATHS.pow, { target_path: target }, {}, tok)).data.biz_data.challenge;
}

async function solvedHeader(target: string = PATHS.completion, tok = token): Promise<string> {
  const c = await challenge(target, tok);
  return headerFor(c, (await solver.solve(c))!);
}

async function newSession(tok = token): Promise<string> {
  const b = (await json(PATHS.createSession, { agent: "chat" }, {}, tok)).data.biz_data;
  return b.id ?? b.chat_session.id;
}

function frames(text: string): string[] {
  return text.split("\n\n").filter((f) => f.length > 0);
}

function completionBody(session: string, extra: Record<string, unknown> = {}) {
  return { chat_session_id: session, parent_message_id: null, prompt: "<｜User｜>Hello sim<｜Assistant｜>", ref_file_ids: [], thinking_enabled: true, search_enabled: false, model_type: "default", ...extra };
}

beforeAll(async () => {
  sim = await startSim({ accounts: [{ email: "a@example.com", password: "pw-a" }, { mobile: "13800138000", password: "pw-m" }] });
  token = sim.state.tokenFor("a@example.com");
});
afterAll(() => sim?.stop());

describe("envelopes and auth", () => {
  test("missing and bad tokens are HTTP 200 envelopes with data null", async () => {
    const r1 = await call(PATHS.createSession, { agent: "chat" }, {}, null);
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ code: 40002, msg: "Missing Token", data: null });
    const r2 = await call(PATHS.createSession, { agent: "chat" }, {}, "nope");
    expect(r2.status).toBe(200);
    const b2 = await r2.json();
    expect(b2.code).toBe(40003);
    expect(b2.data).toBeNull();
  });

  test("401 mode", async () => {
    sim.state.options.authFailure = 401;
    try {
      const r = await call(PATHS.createSession, { agent: "chat" }, {}, "nope");
      expect(r.status).toBe(401);
    } finally {
      sim.state.options.authFailure = undefined;
    }
  });

  test("injected auth-sounding and quota biz errors", async () => {
    sim.state.injectError(PATHS.createSession, SIM_ERRORS.authBiz).injectError(PATHS.createSession, SIM_ERRORS.quota);
    const a = await json(PATHS.createSession, { agent: "chat" });
    expect(a.code).toBe(0);
    expect(a.data.biz_code).not.toBe(0);
    expect(a.data.biz_msg).toContain("token");
    const q = await json(PATHS.createSession, { agent: "chat" });
    expect(q.data.biz_msg).toBe("quota reached");
    expect((await json(PATHS.createSession, { agent: "chat" })).data.biz_code).toBe(0);
  });

  test("login: email, mobile with area_code null, wrong password, new token each time, revocation", async () => {
    const e = await json(PATHS.login, { email: "a@example.com", password: "pw-a", device_id: "x", os: "android" }, {}, null);
    expect(e.data.biz_code).toBe(0);
    const t1 = e.data.biz_data.user.token as string;
    const m = await json(PATHS.login, { mobile: "13800138000", area_code: null, password: "pw-m" }, {}, null);
    expect(m.data.biz_code).toBe(0);
    const bad = await json(PATHS.login, { email: "a@example.com", password: "wrong" }, {}, null);
    expect(bad.code).toBe(0);
    expect(bad.data.biz_code).not.toBe(0);
    const t2 = (await json(PATHS.login, { email: "a@example.com", password: "pw-a" }, {}, null)).data.biz_data.user.token;
    expect(t2).not.toBe(t1);
    expect((await json(PATHS.createSession, { agent: "chat" }, {}, t1)).data.biz_code).toBe(0);
    sim.state.revokeToken(t1);
    expect((await json(PATHS.createSession, { agent: "chat" }, {}, t1)).code).toBe(40003);
    expect((await json(PATHS.createSession, { agent: "chat" }, {}, t2)).data.biz_code).toBe(0);
  });

  test("login can invalidate older tokens; tokens expire", async () => {
    // Long enough that a loaded machine still uses token b before it expires; expiry is then waited for.
    const s = await startSim({ accounts: [{ email: "x@y.z", password: "p" }], invalidateOldTokensOnLogin: true, tokenTtlMs: 1500 });
    try {
      const login = async () => (await (await fetch(s.url + PATHS.login, { method: "POST", body: JSON.stringify({ email: "x@y.z", password: "p" }) })).json()).data.biz_data.user.token;
      const a = await login();
      const b = await login();
      const create = async (t: string) => (await (await fetch(s.url + PATHS.createSession, { method: "POST", headers: { authorization: `Bearer ${t}` }, body: "{}" })).json()).code;
      expect(await create(a)).toBe(40003);
      expect(await create(b)).toBe(0);
      await waitUntil(async () => (await create(b)) === 40003, "token b to expire");
    } finally {
      await s.stop();
    }
  });
});

describe("sessions", () => {
  test("both create variants, UUID ids, fetch_page, delete, delete_all", async () => {
    const s = await startSim({ accounts: [{ email: "s@x.y", password: "p" }], sessionVariant: "alternate" });
    try {
      const t = s.state.tokenFor("s@x.y");
      const post = async (path: string, body: unknown) => (await (await fetch(s.url + path, { method: "POST", headers: { authorization: `Bearer ${t}` }, body: JSON.stringify(body) })).json()).data.biz_data;
      const first = await post(PATHS.createSession, { agent: "chat" });
      const second = await post(PATHS.createSession, { agent: "chat" });
      expect(typeof first.id).toBe("string");
      expect(first.chat_session).toBeUndefined();
      expect(typeof second.chat_session.id).toBe("string");
      expect(second.chat_session.model_type).toBe("default");
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      expect(first.id).toMatch(uuid);
      expect(second.chat_session.id).toMatch(uuid);
      await post(PATHS.createSession, {});
      const page = (await (await fetch(`${s.url}${PATHS.fetchPage}?lte_cursor.pinned=false`, { headers: { authorization: `Bearer ${t}` } })).json()).data.biz_data;
      expect(page.chat_sessions).toHaveLength(3);
      expect(page.has_more).toBe(false);
      await post(PATHS.deleteSession, { chat_session_id: first.id });
      expect(s.state.sessionCount("s@x.y")).toBe(2);
      await post(PATHS.deleteAll, {});
      expect(s.state.sessionCount("s@x.y")).toBe(0);
      expect(s.state.counters.sessionsDeleted).toBe(3);
    } finally {
      await s.stop();
    }
  });

  test("message ids 1/2 then 3/4 with parent_message_id 2", async () => {
    const session = await newSession();
    const r1 = await call(PATHS.completion, completionBody(session), { "x-ds-pow-response": await solvedHeader() });
    const t1 = await r1.text();
    expect(t1).toContain('"request_message_id":1,"response_message_id":2');
    const noParent = await json(PATHS.completion, completionBody(session), { "x-ds-pow-response": await solvedHeader() });
    expect(noParent.data.biz_code).not.toBe(0);
    const r2 = await call(PATHS.completion, completionBody(session, { parent_message_id: 2 }), { "x-ds-pow-response": await solvedHeader() });
    const t2 = await r2.text();
    expect(t2).toContain('"request_message_id":3,"response_message_id":4');
    expect(t2).not.toContain("event: title"); // title only on the first turn
    expect(t1).toContain("event: title");
  });
});

describe("PoW", () => {
  test("challenge is real DeepSeekHashV1 with the configured difficulty", async () => {
    const c = await challenge();
    expect(c.algorithm).toBe("DeepSeekHashV1");
    expect(c.difficulty).toBe(64);
    expect(c.challenge).toMatch(/^[0-9a-f]{64}$/);
    const answer = (await solver.solve(c))!;
    expect(answer).toBeGreaterThanOrEqual(0);
    expect(deepSeekHashV1(powMessage(c.salt, c.expire_at, answer))).toBe(c.challenge);
  });

  test("rejects missing, malformed, wrong answer, wrong target, unknown signature, expired", async () => {
    const session = await newSession();
    const body = completionBody(session);
    const reject = async (h: Record<string, string>) => {
      const r = await json(PATHS.completion, body, h);
      expect(r.data.biz_code).not.toBe(0);
      return r.data.biz_msg as string;
    };
    expect(await reject({})).toContain("missing");
    expect(await reject({ "x-ds-pow-response": "!!!notbase64" })).toContain("malformed");
    const c = await challenge();
    const answer = (await solver.solve(c))!;
    expect(await reject({ "x-ds-pow-response": headerFor(c, (answer + 1) % 64 === answer ? answer + 64 : (answer + 1) % 64) })).toContain("wrong answer");
    expect(await reject({ "x-ds-pow-response": headerFor(c, answer, { signature: "forged" }) })).toContain("unknown");
    const up = await challenge(PATHS.upload);
    expect(await reject({ "x-ds-pow-response": headerFor(up, (await solver.solve(up))!) })).toContain("target");
    sim.state.options.powTtlMs = -1000;
    try {
      const old = await challenge();
      expect(await reject({ "x-ds-pow-response": headerFor(old, (await solver.solve(old))!) })).toContain("expired");
    } finally {
      sim.state.options.powTtlMs = undefined;
    }
    const ok = await call(PATHS.completion, body, { "x-ds-pow-response": headerFor(c, answer) });
    expect(ok.headers.get("content-type")).toContain("text/event-stream");
    await ok.text();
  });

  test("single use for completion, reuse allowed on continue", async () => {
    sim.state.options.powSingleUse = true;
    try {
      const session = await newSession();
      const h = await solvedHeader();
      sim.state.script({ answer: "abcdefghij", chunking: 1, continueRounds: 1 });
      await (await call(PATHS.completion, completionBody(session), { "x-ds-pow-response": h })).text();
      const again = await json(PATHS.completion, completionBody(session, { parent_message_id: 2 }), { "x-ds-pow-response": h });
      expect(again.data.biz_msg).toContain("already used");
      const cont = await call(PATHS.continue, { chat_session_id: session, message_id: 2, fallback_to_resume: true }, { "x-ds-pow-response": h });
      expect(cont.headers.get("content-type")).toContain("text/event-stream");
      expect(await cont.text()).toContain('"FINISHED"');
    } finally {
      sim.state.options.powSingleUse = false;
    }
  });
});

describe("stream grammar", () => {
  test("LF framing, event lines only for non-message events, envelope with first token, sticky bare frames, ending order", async () => {
    const session = await newSession();
    sim.state.script({ thinking: "Think about it carefully.", answer: "## Head\n\nBody text here." });
    const res = await call(PATHS.completion, completionBody(session, { model_type: "expert" }), { "x-ds-pow-response": await solvedHeader() });
    const text = await res.text();
    expect(text).not.toContain("\r");
    expect(text).not.toContain("[DONE]");
    const fs = frames(text);
    const named: string[] = [];
    for (const f of fs) {
      const lines = f.split("\n");
      if (lines[0] === ": ") continue;
      if (lines[0]!.startsWith("event: ")) {
        expect(lines).toHaveLength(2);
        named.push(lines[0]!.slice(7));
        expect(lines[0]).not.toBe("event: message");
      } else expect(lines).toHaveLength(1);
      expect(lines[lines.length - 1]!.startsWith("data: ")).toBe(true);
      JSON.parse(lines[lines.length - 1]!.slice(6));
    }
    expect(named[0]).toBe("ready");
    expect(named.slice(1, 2)).toEqual(["update_session"]);
    expect(named.slice(-4)).toEqual(["finish", "update_session", "title", "close"]);
    const ready = JSON.parse(fs[0]!.split("\n")[1]!.slice(6));
    expect(ready.model_type).toBe("expert");
    const env = JSON.parse(fs[2]!.slice(6));
    expect(env.v.response.status).toBe("WIP");
    expect(env.v.response.thinking_enabled).toBe(true);
    expect(env.v.response.fragments[0].type).toBe("THINK");
    expect(env.v.response.fragments[0].content.length).toBeGreaterThan(0);
    const payloads = fs.filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)));
    expect(payloads.some((p) => Object.keys(p).length === 1 && typeof p.v === "string")).toBe(true);
    expect(payloads.some((p) => p.p === "response/fragments" && p.v[0].type === "RESPONSE")).toBe(true);
    expect(payloads.some((p) => p.p === "response/fragments/-1/elapsed_secs")).toBe(true);
    const finalBatch = payloads.find((p) => p.p === "response" && p.o === "BATCH" && p.v.some((x: any) => x.p === "quasi_status"));
    expect(finalBatch.v[0].p).toBe("accumulated_token_usage");
    const last = payloads[payloads.length - 2]; // before close
    expect(payloads.findIndex((p) => p.p === "response/status" && p.v === "FINISHED")).toBeGreaterThan(payloads.indexOf(finalBatch));
    expect(last).toBeDefined();
    // Rebuild the text with the sticky rule to prove the frames are self-consistent.
    let path = "";
    let joined = "";
    for (const p of payloads.slice(1)) {
      if (p.p !== undefined) path = p.p;
      if (path === "response/fragments/-1/content" && typeof p.v === "string") joined += p.v;
      if (path === "response/fragments" && Array.isArray(p.v) && p.v[0]?.type === "RESPONSE") joined += "|" + p.v[0].content;
    }
    expect(env.v.response.fragments[0].content + joined).toBe("Think about it carefully.|## Head\n\nBody text here.");
  });

  test("thinking off: no THINK fragment and no elapsed_secs; search off flag reflected", async () => {
    const session = await newSession();
    const res = await call(PATHS.completion, completionBody(session, { thinking_enabled: false }), { "x-ds-pow-response": await solvedHeader() });
    const text = await res.text();
    expect(text).not.toContain('"THINK"');
    expect(text).not.toContain("elapsed_secs");
    expect(text).toContain('"type":"RESPONSE","content":"');
    expect(text).toContain('"thinking_enabled":false');
    expect(text).toContain('"search_enabled":false');
  });

  test("stall sends keepalive comments; long data lines", async () => {
    const session = await newSession();
    // Keep-alives every 20 ms over a 1 s stall: even a starved process gets two of them out.
    sim.state.script({ answer: "a b c", stall: { afterTokens: 1, ms: 1000, keepaliveMs: 20 }, longLineBytes: 3 * 1024 * 1024 });
    const t0 = Date.now();
    const text = await (await call(PATHS.completion, completionBody(session), { "x-ds-pow-response": await solvedHeader() })).text();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000 - 1); // the stall is a lower bound, load only adds to it
    expect(text.split("\n: \n").length - 1).toBeGreaterThanOrEqual(2);
    expect(text.split("\n").some((l) => l.length > 3 * 1024 * 1024)).toBe(true);
  });

  test("request log and per-account concurrency", async () => {
    const session1 = await newSession();
    const session2 = await newSession();
    sim.state.script({ answer: "x".repeat(20), chunking: 1, tokenDelayMs: 10 }, { times: 2 });
    const before = sim.state.requestsTo(PATHS.completion).length;
    const [h1, h2] = [await solvedHeader(), await solvedHeader()];
    const a = call(PATHS.completion, completionBody(session1), { "x-ds-pow-response": h1 }).then((r) => r.text());
    const b = call(PATHS.completion, completionBody(session2), { "x-ds-pow-response": h2 }).then((r) => r.text());
    await waitUntil(() => sim.state.concurrency("a@example.com").current === 2);
    await Promise.all([a, b]);
    await waitUntil(() => sim.state.concurrency("a@example.com").current === 0);
    expect(sim.state.concurrency("a@example.com").max).toBeGreaterThanOrEqual(2);
    const logged = sim.state.requestsTo(PATHS.completion).slice(before);
    expect(logged).toHaveLength(2);
    expect((logged[0]!.body as any).prompt).toBe("<｜User｜>Hello sim<｜Assistant｜>");
    expect(logged[0]!.headers["x-ds-pow-response"]).toBe(h1);
  });
});

describe("uploads", () => {
  test("one file part, x-file-size checked, PENDING then SUCCESS, ref_file_ids checked per account", async () => {
    const form = new FormData();
    form.append("file", new File(["hello"], "h.txt", { type: "text/plain" }));
    const up = await fetch(sim.url + PATHS.upload, { method: "POST", headers: { authorization: `Bearer ${token}`, "x-ds-pow-response": await solvedHeader(PATHS.upload), "x-file-size": "5" }, body: form });
    const f = (await up.json()).data.biz_data;
    expect(f.id).toMatch(/^file-[0-9a-f-]{36}$/);
    expect(f.status).toBe("PENDING");
    const form2 = new FormData();
    form2.append("file", new File(["hello"], "h.txt"));
    const badSize = await (await fetch(sim.url + PATHS.upload, { method: "POST", headers: { authorization: `Bearer ${token}`, "x-ds-pow-response": await solvedHeader(PATHS.upload), "x-file-size": "4" }, body: form2 })).json();
    expect(badSize.data.biz_code).not.toBe(0);
    const completionPow = await fetch(sim.url + PATHS.upload, { method: "POST", headers: { authorization: `Bearer ${token}`, "x-ds-pow-response": await solvedHeader(PATHS.completion), "x-file-size": "5" }, body: form2 });
    expect((await completionPow.json()).data.biz_msg).toContain("target");
    const fetchFile = async () => (await (await fetch(`${sim.url}${PATHS.fetchFiles}?file_ids=${f.id}`, { headers: { authorization: `Bearer ${token}` } })).json()).data.biz_data;
    await waitUntil(async () => (await fetchFile()).files[0].status !== "PENDING", "the upload to be processed");
    expect((await fetchFile()).files[0].status).toBe("SUCCESS");
    const other = sim.state.tokenFor("13800138000");
    const otherSession = await newSession(other);
    const denied = await json(PATHS.completion, completionBody(otherSession, { ref_file_ids: [f.id] }), { "x-ds-pow-response": await solvedHeader(PATHS.completion, other) }, other);
    expect(denied.data.biz_code).not.toBe(0);
    const session = await newSession();
    const ok = await call(PATHS.completion, completionBody(session, { ref_file_ids: [f.id] }), { "x-ds-pow-response": await solvedHeader() });
    expect(ok.headers.get("content-type")).toContain("event-stream");
    await ok.text();
  });
});

describe("replay", () => {
  test("splits captured files into rounds and drops the leading upload JSON line", async () => {
    const longtext = await Bun.file(new URL("longtext-deepseek-v4-flash-20260429/upstream.stream.sse", FIXTURES)).text();
    const rounds = splitReplayRounds(longtext);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]!.startsWith("event: ready\n")).toBe(true);
    expect(longtext.endsWith(rounds[0]!)).toBe(true);
    const cont = await Bun.file(new URL("continue-thinking-snapshot-replay-20260405/upstream.stream.sse", FIXTURES)).text();
    const cr = splitReplayRounds(cont);
    expect(cr).toHaveLength(2);
    expect(cr.join("")).toBe(cont);
    expect(cr[0]).toContain('"v":"INCOMPLETE"');
  });

  test("serves a capture verbatim", async () => {
    const file = new URL("markdown-format-example-20260405/upstream.stream.sse", FIXTURES).pathname;
    sim.state.script({ replay: { file, chunkBytes: 7 } });
    const session = await newSession();
    const text = await (await call(PATHS.completion, completionBody(session), { "x-ds-pow-response": await solvedHeader() })).text();
    expect(text).toBe(await Bun.file(file).text());
  });
});

describe("standalone command", () => {
  test("ds2api sim --port 0 --difficulty 8 --account email:password", async () => {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    const cmd = await runSimCommand(["--port", "0", "--difficulty", "8", "--account", "cli@example.com:pw:with:colons"]).finally(() => (console.log = log));
    try {
      expect(lines.join("\n")).toContain(cmd.url);
      const r = await (await fetch(cmd.url + PATHS.login, { method: "POST", body: JSON.stringify({ email: "cli@example.com", password: "pw:with:colons" }) })).json();
      expect(r.data.biz_code).toBe(0);
      const t = r.data.biz_data.user.token;
      const c = await (await fetch(cmd.url + PATHS.pow, { method: "POST", headers: { authorization: `Bearer ${t}` }, body: JSON.stringify({ target_path: PATHS.completion }) })).json();
      expect(c.data.biz_data.challenge.difficulty).toBe(8);
    } finally {
      await cmd.stop();
    }
  });
});
