/**
 * `POST /admin/test`: one non-stream chat through the server's own /v1/chat/completions with a configured
 * key. `POST /admin/playground`: the chosen surface's own answer (SSE when streaming), run through the
 * same loopback with the first configured key (or the given one), for the console's API tester.
 */
import { Elysia, t } from "elysia";
import { HttpError } from "../http-error.ts";
import type { AppContext } from "../../context.ts";
import { ownBaseUrl, pickApiKey } from "./loopback.ts";

const TEST_TIMEOUT_MS = 60_000;

const PlaygroundBody = t.Object({
  surface: t.Union([t.Literal("openai"), t.Literal("anthropic"), t.Literal("gemini")]),
  model: t.String({ minLength: 1, maxLength: 200 }),
  message: t.String({ minLength: 1, maxLength: 200_000 }),
  stream: t.Optional(t.Boolean()),
  thinking: t.Optional(t.Boolean()),
  api_key: t.Optional(t.String({ maxLength: 512 })),
});

type Playground = typeof PlaygroundBody.static;

function surfaceRequest(p: Playground, key: string): { path: string; headers: Record<string, string>; body: unknown } {
  const stream = p.stream !== false;
  const messages = [{ role: "user", content: p.message }];
  switch (p.surface) {
    case "openai":
      return { path: "/v1/chat/completions", headers: { authorization: `Bearer ${key}` }, body: { model: p.model, messages, stream } };
    case "anthropic":
      return {
        path: "/anthropic/v1/messages",
        headers: { "x-api-key": key, "anthropic-version": "2023-06-01" },
        body: { model: p.model, max_tokens: 8192, messages, stream, ...(p.thinking ? { thinking: { type: "enabled", budget_tokens: 4096 } } : {}) },
      };
    case "gemini":
      return {
        path: `/v1beta/models/${encodeURIComponent(p.model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
        headers: { "x-goog-api-key": key },
        body: { contents: [{ role: "user", parts: [{ text: p.message }] }], ...(p.thinking ? { generationConfig: { thinkingConfig: { includeThoughts: true } } } : {}) },
      };
  }
}

/** The readable message inside any surface's error body. */
function errorMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; detail?: string; message?: string };
    if (typeof j.error === "object" && j.error?.message) return j.error.message;
    return (typeof j.error === "string" ? j.error : undefined) ?? j.detail ?? j.message ?? text.slice(0, 500);
  } catch {
    return text.slice(0, 500) || "empty response";
  }
}

/** The self-test calls this server's own routes over loopback with a configured key. */
export function selfTestRoutes(d: { ctx: Pick<AppContext, "state" | "apiKeys" | "store"> }) {
  return (app: Elysia<"/admin">) =>
    app
      .post(
        "/test",
        async ({ body, request }) => {
          const key = await pickApiKey(d.ctx, body?.api_key);
          const url = `${ownBaseUrl(d.ctx)}/v1/chat/completions`;
          try {
            const res = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
              body: JSON.stringify({ model: body?.model ?? "deepseek-v4-flash", messages: [{ role: "user", content: body?.message ?? "你好" }], stream: false }),
              signal: AbortSignal.any([request.signal, AbortSignal.timeout(TEST_TIMEOUT_MS)]),
            });
            const text = await res.text();
            let response: unknown = text;
            try {
              response = JSON.parse(text);
            } catch {
              // keep the raw text
            }
            return { success: res.ok, status_code: res.status, response };
          } catch (e) {
            return { success: false, status_code: 0, error: (e as Error).message };
          }
        },
        {
          body: t.Optional(
            t.Object({ model: t.Optional(t.String({ minLength: 1, maxLength: 200 })), message: t.Optional(t.String({ minLength: 1, maxLength: 200_000 })), api_key: t.Optional(t.String({ maxLength: 512 })) }),
          ),
        },
      )
      .post(
        "/playground",
        async ({ body, request }) => {
          const key = await pickApiKey(d.ctx, body.api_key);
          const r = surfaceRequest(body, key);
          const res = await fetch(`${ownBaseUrl(d.ctx)}${r.path}`, {
            method: "POST",
            headers: { "content-type": "application/json", ...r.headers },
            body: JSON.stringify(r.body),
            signal: request.signal,
          });
          if (!res.ok) {
            // A refused key is not the admin's session: never answer 401 here (the console would log out).
            const status = res.status === 401 || res.status === 403 ? 400 : res.status;
            throw new HttpError(status, `${body.surface} answered ${res.status}: ${errorMessage(await res.text())}`);
          }
          return new Response(res.body, {
            status: res.status,
            headers: { "content-type": res.headers.get("content-type") ?? "application/json", "cache-control": "no-cache", "x-accel-buffering": "no" },
          });
        },
        { body: PlaygroundBody },
      );
}
