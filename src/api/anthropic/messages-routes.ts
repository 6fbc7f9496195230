/** Anthropic Messages routes (`/anthropic/v1/messages`, `/v1/messages`, `/messages`, and count_tokens). */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import { HttpError } from "../http-error.ts";
import { CountTokensBody, MessagesBody } from "./messages-schema.ts";

const PREFIXES = ["/anthropic/v1", "/v1", ""];

export function messagesRoutes(ctx: AppContext) {
  const handler = () => {
    throw new HttpError(503, "the upstream engine is not wired yet");
  };
  let app = new Elysia({ name: "anthropic-messages" }).use(businessAuth(ctx));
  for (const prefix of PREFIXES) {
    app = app.post(`${prefix}/messages`, handler, { body: MessagesBody }).post(`${prefix}/messages/count_tokens`, handler, { body: CountTokensBody });
  }
  return app;
}
