/** OpenAI Chat Completions routes. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import { HttpError } from "../http-error.ts";
import { ChatCompletionBody } from "./chat-schema.ts";

export function chatRoutes(ctx: AppContext) {
  const handler = () => {
    throw new HttpError(503, "the upstream engine is not wired yet");
  };
  return new Elysia({ name: "openai-chat" })
    .use(businessAuth(ctx))
    .post("/v1/chat/completions", handler, { body: ChatCompletionBody })
    .post("/chat/completions", handler, { body: ChatCompletionBody });
}
