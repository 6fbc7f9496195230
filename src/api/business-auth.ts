/** Elysia plugin: authenticates business routes before body validation and exposes `caller`. */
import { Elysia } from "elysia";
import type { AppContext } from "../context.ts";
import { authenticateCaller } from "./caller.ts";

export function businessAuth(ctx: AppContext) {
  return new Elysia({ name: "business-auth" }).derive({ as: "scoped" }, ({ request }) => ({
    caller: authenticateCaller(request, new URL(request.url), ctx.apiKeys, ctx.options.allowDirectToken),
  }));
}
