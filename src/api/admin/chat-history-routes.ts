/**
 * Chat history admin routes (§12.6): list and one entry with weak ETags (304 on If-None-Match), delete one
 * or all, and the limit setting (0 = off, the default). The recorder is registered here as a turn observer.
 */
import { Elysia, t } from "elysia";
import { AdminServiceError } from "../../admin/admin-error.ts";
import { ChatHistoryRecorder, chatHistoryLimit, MAX_CHAT_HISTORY_LIMIT } from "../chat-history-recorder.ts";
import { HttpError, notFound } from "../http-error.ts";
import type { AdminDeps } from "./admin-deps.ts";

/** Format version of the list (the Go ds2api's file format is 2; ours is the sqlite table). */
const HISTORY_VERSION = 2;

function etagMatches(request: Request, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (!header) return false;
  return header.split(",").some((v) => {
    const tag = v.trim();
    return tag === "*" || tag === etag || tag.replace(/^W\//, "") === etag.replace(/^W\//, "");
  });
}

/** 304 when the client holds this version; else the body (read only then). */
async function withEtag(request: Request, etag: string, body: () => unknown): Promise<Response> {
  if (etagMatches(request, etag)) return new Response(null, { status: 304, headers: { etag } });
  return Response.json(await body(), { headers: { etag, "cache-control": "no-cache" } });
}

export function chatHistoryRoutes(d: AdminDeps) {
  const { ctx } = d;
  ctx.observers.push(new ChatHistoryRecorder(ctx));
  const repo = ctx.store.chatHistory;
  const path = `${ctx.store.location}#chat_history`;
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HttpError || e instanceof AdminServiceError) throw e;
      ctx.logger.warn("chat history store failed", { error: String(e) });
      throw new HttpError(503, "chat history store unavailable");
    }
  };
  const listBody = async () => ({ version: HISTORY_VERSION, limit: chatHistoryLimit(ctx), revision: await repo.revision(), items: await repo.list(), path });
  return (app: Elysia<"/admin">) =>
    app
      .get("/chat-history", ({ request }) =>
        guard(async () => withEtag(request, `W/"chat-history-list-${await repo.revision()}"`, listBody)),
      )
      .get("/chat-history/:id", ({ params, request }) =>
        guard(async () => {
          const item = await repo.get(params.id);
          if (!item) throw notFound("chat history entry not found");
          return withEtag(request, `W/"chat-history-detail-${item.id}-${item.revision}"`, () => ({ item }));
        }),
      )
      .delete("/chat-history", ({ request }) =>
        guard(async () => {
          await d.settings.clearChatHistory(d.whoIs(request));
          return { success: true };
        }),
      )
      .delete("/chat-history/:id", ({ params, request }) =>
        guard(async () => {
          await d.settings.deleteChatHistory(d.whoIs(request), params.id);
          return { success: true };
        }),
      )
      .put(
        "/chat-history/settings",
        ({ body, request }) =>
          guard(async () => {
            await d.settings.setChatHistoryLimit(d.whoIs(request), body.limit);
            return { success: true, limit: body.limit, revision: await repo.revision(), items: await repo.list() };
          }),
        { body: t.Object({ limit: t.Integer({ minimum: 0, maximum: MAX_CHAT_HISTORY_LIMIT }) }, { additionalProperties: false }) },
      );
}
