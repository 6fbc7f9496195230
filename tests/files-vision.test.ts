/**
 * Files and vision through the server with the simulator as DeepSeek: POST/GET /v1/files, images and
 * documents in chat requests on every surface (official SDKs as callers), pinning to the uploading account,
 * limits and errors, http(s) image URLs from a local server, and nothing half-uploaded referenced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI, { toFile } from "openai";
import { describeRefFiles } from "../src/sim/index.ts";
import { AdminClient } from "./support/admin-client.ts";
import { isPrivateAddress } from "../src/api/files/url-guard.ts";
import { API_KEY, startStack, type Stack } from "./support/stack.ts";
import { startVolcStack, VOLC_API_KEY, volcModel } from "./support/volc-stack.ts";

/** A real 1×1 PNG. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
const PNG_B64 = PNG.toString("base64");
const PNG_DATA_URL = `data:image/png;base64,${PNG_B64}`;
const UPLOAD = "/api/v0/file/upload_file";
/** A second client key: it must not see or use the first key's files. */
const OTHER_KEY = "sk-e2e-other-key";
const COMPLETION = "/api/v0/chat/completion";

let stack: Stack;
let openai: OpenAI;

beforeAll(async () => {
  // The local image server of one test sits on 127.0.0.1: this stack allows private attachment URLs.
  stack = await startStack({ accounts: 2, config: { keys: [API_KEY, OTHER_KEY] }, env: { DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS: "true" } });
  openai = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.sim.state.clearScripts();
  stack.sim.state.clearFaults();
  stack.sim.state.setDefaultReply((ctx) => ({ thinking: "Looking.", answer: echoWithFiles(ctx) }));
});

/** The simulator's default echo: a description of each referenced file, then the last user text. */
function echoWithFiles(ctx: Parameters<typeof describeRefFiles>[0] & { lastUserText: string }): string {
  return `${describeRefFiles(ctx)}Echo: ${ctx.lastUserText}`;
}

function lastCompletion() {
  const req = stack.sim.state.requestsTo(COMPLETION).at(-1)!;
  return { body: req.body as { ref_file_ids: string[]; model_type: string }, accountId: req.accountId };
}

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${stack.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

describe("POST /v1/files and GET /v1/files/{id}", () => {
  test("openai files.create uploads through a pooled account; retrieve asks that account", async () => {
    const before = stack.sim.state.requestsTo(UPLOAD).length;
    const f = await openai.files.create({ file: await toFile(Buffer.from("hello notes\n"), "notes.txt", { type: "text/plain" }), purpose: "assistants" });
    expect(f.object).toBe("file");
    expect(f.id).toMatch(/^file-/);
    expect(f.bytes).toBe(12);
    expect(f.filename).toBe("notes.txt");
    expect(f.purpose).toBe("assistants");
    expect(f.status).toBe("processed");
    expect(stack.sim.state.requestsTo(UPLOAD).length).toBe(before + 1);
    expect(stack.sim.state.requestsTo(UPLOAD).at(-1)!.headers["x-model-type"]).toBe("default");
    const got = await openai.files.retrieve(f.id);
    expect(got.id).toBe(f.id);
    expect(got.bytes).toBe(12);
    expect(got.status).toBe("processed");
    // the lookup went to the account that holds the file
    const fetches = stack.sim.state.requestsTo("/api/v0/file/fetch_files");
    expect(fetches.at(-1)!.accountId).toBe(stack.sim.state.files.get(f.id)!.accountId);
  });

  test("a file belongs to the key that uploaded it: another key gets 404 / 400", async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from("mine"), "mine.txt", { type: "text/plain" }), purpose: "assistants" });
    const other = new OpenAI({ apiKey: OTHER_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const err = await other.files.retrieve(f.id).catch((e: unknown) => e as { status: number });
    expect((err as { status: number }).status).toBe(404);
    const res = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "input_file", file_id: f.id }] }] }, { authorization: `Bearer ${OTHER_KEY}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`file ${f.id} is not known here`);
  });

  test("an image upload goes up as the vision model type", async () => {
    const f = await openai.files.create({ file: await toFile(PNG, "dot.png", { type: "image/png" }), purpose: "vision" });
    expect(f.bytes).toBe(PNG.length);
    expect(stack.sim.state.requestsTo(UPLOAD).at(-1)!.headers["x-model-type"]).toBe("vision");
  });

  test("errors exactly as §7.2: not multipart, no file, unknown id", async () => {
    const notMultipart = await post("/v1/files", { purpose: "x" });
    expect(notMultipart.status).toBe(400);
    expect(((await notMultipart.json()) as { error: { message: string } }).error.message).toBe("content-type must be multipart/form-data");
    const form = new FormData();
    form.append("purpose", "assistants");
    const noFile = await fetch(`${stack.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` }, body: form });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as { error: { message: string } }).error.message).toBe("file is required");
    const missing = await fetch(`${stack.url}/v1/files/file-nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("file not found");
    const anon = await fetch(`${stack.url}/v1/files/file-nope`);
    expect(anon.status).toBe(401);
  });

  test("more than 100 MiB: 413 file size exceeds limit (the body stops being read at the limit)", async () => {
    const boundary = "----ds2apitestboundary";
    const head = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 0) c.enqueue(head);
        if (sent >= 101) return c.close();
        sent++;
        c.enqueue(chunk);
      },
    });
    const res = await fetch(`${stack.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": `multipart/form-data; boundary=${boundary}` }, body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("file size exceeds limit");
  });

  test("an upstream failure is 500 Failed to upload file.", async () => {
    stack.sim.state.injectError(UPLOAD, { code: 0, bizCode: 50000, bizMsg: "boom" }, { times: 10 });
    const form = new FormData();
    form.append("file", new File(["abc"], "a.txt", { type: "text/plain" }));
    const res = await fetch(`${stack.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` }, body: form });
    stack.sim.state.clearFaults();
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("Failed to upload file.");
  });
});

describe("images and files in chat requests", () => {
  test("OpenAI image_url data URL: uploaded, referenced, vision model, simulator sees it", async () => {
    const r = await openai.chat.completions.create({
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: PNG_DATA_URL } }] }],
    });
    expect(r.choices[0]!.message.content).toContain(`I see an image named image-1.png of ${PNG.length} bytes (model vision).`);
    expect(r.choices[0]!.message.content).toContain("Echo: what is this?");
    const c = lastCompletion();
    expect(c.body.model_type).toBe("vision");
    expect(c.body.ref_file_ids).toHaveLength(1);
    // the upload went up with the account that ran the completion
    expect(stack.sim.state.files.get(c.body.ref_file_ids[0]!)!.accountId).toBe(c.accountId!);
  });

  test("a file_id pins every later chat to the uploading account (2-account pool)", async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from("the secret word is plum"), "memo.txt", { type: "text/plain" }), purpose: "assistants" });
    const owner = stack.sim.state.files.get(f.id)!.accountId;
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await openai.chat.completions.create({
        model: "deepseek-v4-flash",
        messages: [{ role: "user", content: [{ type: "text", text: `read it ${i}` }, { type: "file", file: { file_id: f.id } }] }],
      });
      expect(r.choices[0]!.message.content).toContain("I read a file named memo.txt of 23 bytes.");
      const c = lastCompletion();
      expect(c.body.ref_file_ids).toEqual([f.id]);
      expect(c.body.model_type).toBe("default");
      seen.add(c.accountId!);
    }
    expect([...seen]).toEqual([owner]);
    // without the file, rotation uses both accounts
    const free = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: `plain ${i}` }] });
      free.add(lastCompletion().accountId!);
    }
    expect(free.size).toBe(2);
  });

  test("a file_id and X-Ds2-Target-Account naming another account: 409", async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from("x"), "x.txt", { type: "text/plain" }), purpose: "assistants" });
    const owner = stack.sim.state.files.get(f.id)!.accountId;
    const ownerLogin = stack.sim.state.accounts.get(owner)!.email!;
    const other = ownerLogin === "user0@example.com" ? "user1@example.com" : "user0@example.com";
    const res = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "input_file", file_id: f.id }] }] }, { "x-ds2-target-account": other });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("file_account_conflict");
  });

  test("the account holding a referenced file is disabled: 409 in the surface's shape", async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from("y"), "y.txt", { type: "text/plain" }), purpose: "assistants" });
    const owner = stack.sim.state.accounts.get(stack.sim.state.files.get(f.id)!.accountId)!.email!;
    const admin = new AdminClient(stack.url, "e2e-admin");
    expect((await admin.call("POST", `/admin/accounts/${encodeURIComponent(owner)}/disable`)).status).toBe(200);
    try {
      const res = await post("/anthropic/v1/messages", { model: "deepseek-v4-flash", max_tokens: 10, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: f.id } }, { type: "text", text: "read" }] }] });
      expect(res.status).toBe(409);
      const body = (await res.json()) as { type: string; error: { message: string } };
      expect(body.type).toBe("error");
      expect(body.error.message).toContain("upload the file again");
    } finally {
      expect((await admin.call("POST", `/admin/accounts/${encodeURIComponent(owner)}/enable`)).status).toBe(200);
    }
  });

  test("Responses input_image and input_file", async () => {
    const f = await openai.files.create({ file: await toFile(Buffer.from("doc body"), "doc.md", { type: "text/markdown" }), purpose: "user_data" });
    const r = await openai.responses.create({
      model: "deepseek-v4-flash",
      input: [{ role: "user", content: [{ type: "input_text", text: "both" }, { type: "input_image", image_url: PNG_DATA_URL, detail: "auto" }, { type: "input_file", file_id: f.id }] }],
    });
    expect(r.output_text).toContain(`I see an image named image-1.png of ${PNG.length} bytes (model vision).`);
    expect(r.output_text).toContain("I read a file named doc.md of 8 bytes.");
    expect(lastCompletion().body.ref_file_ids).toHaveLength(2);
  });

  test("Anthropic image (base64) and document (text) blocks through the SDK", async () => {
    const client = new Anthropic({ apiKey: API_KEY, baseURL: `${stack.url}/anthropic`, maxRetries: 0 });
    const m = await client.messages.create({
      model: "deepseek-v4-flash",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_B64 } },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "plain doc" }, title: "plain.txt" },
            { type: "text", text: "describe" },
          ],
        },
      ],
    });
    const text = m.content.filter((b) => b.type === "text").map((b) => (b as { text: string }).text).join("");
    expect(text).toContain(`I see an image named image-1.png of ${PNG.length} bytes (model vision).`);
    expect(text).toContain("I read a file named plain.txt of 9 bytes.");
    expect(text).toContain("Echo: describe");
  });

  test("Gemini inlineData through @google/genai", async () => {
    const ai = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: stack.url } });
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [{ role: "user", parts: [{ text: "see" }, { inlineData: { mimeType: "image/png", data: PNG_B64 } }] }],
    });
    expect(r.text).toContain(`I see an image named image-1.png of ${PNG.length} bytes (model vision).`);
  });

  test("an http image URL is fetched from a local server (size cap, HTTP errors are 400)", async () => {
    const big = new Uint8Array(21 * 1024 * 1024);
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/cat.png") return new Response(PNG, { headers: { "content-type": "image/png" } });
        if (path === "/big.png") return new Response(big, { headers: { "content-type": "image/png" } });
        return new Response("no", { status: 404 });
      },
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const r = await openai.chat.completions.create({ model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `${base}/cat.png` } }] }] });
      expect(r.choices[0]!.message.content).toContain(`I see an image named cat.png of ${PNG.length} bytes (model vision).`);
      const missing = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `${base}/gone.png` } }] }] });
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("HTTP 404");
      const tooBig = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `${base}/big.png` } }] }] });
      expect(tooBig.status).toBe(413);
      expect(((await tooBig.json()) as { error: { message: string } }).error.message).toContain("20 MiB");
    } finally {
      server.stop(true);
    }
  });
});

describe("limits and errors in each surface's shape", () => {
  test("too many images: 400 (OpenAI shape), nothing uploaded", async () => {
    const before = stack.sim.state.requestsTo(UPLOAD).length;
    const parts = Array.from({ length: 11 }, () => ({ type: "image_url", image_url: { url: PNG_DATA_URL } }));
    const res = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: parts }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.message).toContain("at most 10");
    expect(stack.sim.state.requestsTo(UPLOAD).length).toBe(before);
  });

  test("an image media type that is not accepted: 400 (Anthropic shape)", async () => {
    const svg = Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>").toString("base64");
    const res = await post("/anthropic/v1/messages", {
      model: "deepseek-v4-flash",
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/svg+xml", data: svg } }] }],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.message).toContain("image/svg+xml");
  });

  test("bad base64 and an unknown file id: 400 (Gemini shape)", async () => {
    const res = await post("/v1beta/models/gemini-2.5-flash:generateContent", { contents: [{ role: "user", parts: [{ inlineData: { mimeType: "image/png", data: "***" } }] }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: number; status: string; message: string } };
    expect(body.error.code).toBe(400);
    expect(body.error.status).toBe("INVALID_ARGUMENT");
    expect(body.error.message).toContain("base64");
    const unknown = await post("/v1beta/models/gemini-2.5-flash:generateContent", { contents: [{ role: "user", parts: [{ fileData: { mimeType: "text/plain", fileUri: "file-unknown-1" } }] }] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("POST /v1/files");
  });

  test("a URL that is neither data: nor http(s): 400", async () => {
    const res = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://example.invalid/x.png" } }] }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("must be a data: URL or an http(s) URL");
  });

  test("an image larger than 20 MiB: 413", async () => {
    const big = Buffer.alloc(21 * 1024 * 1024, 1).toString("base64");
    const res = await post("/v1/chat/completions", { model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${big}` } }] }] });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error).toBeDefined();
  });

  test("a failed upload mid-turn: the completion never references a half-uploaded set", async () => {
    const uploadsBefore = stack.sim.state.requestsTo(UPLOAD).length;
    const completionsBefore = stack.sim.state.requestsTo(COMPLETION).length;
    const filesBefore = new Set(stack.sim.state.files.keys());
    // the first image uploads, the second fails (on whichever account serves)
    stack.sim.state.injectError(UPLOAD, { code: 0, bizCode: 40003, bizMsg: "upload refused" }, { after: 1, times: 1 });
    const res = await post("/v1/chat/completions", {
      model: "deepseek-v4-flash",
      messages: [{ role: "user", content: [{ type: "text", text: "two" }, { type: "image_url", image_url: { url: PNG_DATA_URL } }, { type: "image_url", image_url: { url: PNG_DATA_URL } }] }],
    });
    const uploads = stack.sim.state.requestsTo(UPLOAD).slice(uploadsBefore);
    expect(uploads.length).toBeGreaterThanOrEqual(2);
    const completions = stack.sim.state.requestsTo(COMPLETION).slice(completionsBefore);
    // the second upload failed before any completion: the turn started its uploads over (after a re-login, or on
    // the other account) and the completion references only the two complete uploads of the account serving it
    expect(res.status).toBe(200);
    expect(completions).toHaveLength(1);
    const served = completions[0]!.accountId!;
    const body = completions[0]!.body as { ref_file_ids: string[] };
    expect(body.ref_file_ids).toHaveLength(2);
    for (const id of body.ref_file_ids) expect(stack.sim.state.files.get(id)!.accountId).toBe(served);
    const created = [...stack.sim.state.files.keys()].filter((id) => !filesBefore.has(id));
    expect(created).toHaveLength(3);
    expect(body.ref_file_ids).not.toContain(created[0]);
  });
});

describe("providers without file support", () => {
  test("an image for a Volcengine model: 400 naming the provider, nothing sent", async () => {
    const volc = await startVolcStack();
    try {
      const before = volc.sim.state.chats().length;
      const res = await fetch(`${volc.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${VOLC_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: volcModel("deepseek-r1"), messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: PNG_DATA_URL } }] }] }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe("images/files are not supported by provider volcengine");
      expect(volc.sim.state.chats().length).toBe(before);
    } finally {
      await volc.stop();
    }
  });
});

describe("attachment URLs may not reach private addresses by default", () => {
  test("loopback, private, link-local and metadata addresses are refused before any fetch; public ones pass the check", async () => {
    for (const ip of ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]) {
      expect(isPrivateAddress(ip)).toBe(true);
    }
    for (const ip of ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"]) expect(isPrivateAddress(ip)).toBe(false);
    let hits = 0;
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (hits++, new Response(PNG, { headers: { "content-type": "image/png" } })) });
    const strict = await startStack({ accounts: 1 });
    try {
      for (const url of [`http://127.0.0.1:${server.port}/cat.png`, `http://localhost:${server.port}/cat.png`, "http://[::1]/x.png", "http://169.254.169.254/latest/meta-data"]) {
        const res = await fetch(`${strict.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "deepseek-v4-flash", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }] }),
        });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("attachment_url_refused");
        expect(body.error.message).toContain("DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS");
      }
      expect(hits).toBe(0);
    } finally {
      await strict.stop();
      server.stop(true);
    }
  });
});

