/** Gemini routes: `POST /v1beta/models/{model}:{action}` (and the `/v1/models/…` twins). */
import { Elysia } from "elysia";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import { HttpError } from "../http-error.ts";
import { GenerateContentBody } from "./generate-schema.ts";

const ACTIONS = new Set(["generateContent", "streamGenerateContent", "countTokens"]);

/** `gemini-2.5-pro:streamGenerateContent` → model and action, split on the last `:`. */
export function splitModelAction(rest: string): { model: string; action: string } {
  const decoded = decodeURIComponent(rest);
  const i = decoded.lastIndexOf(":");
  if (i <= 0) throw new HttpError(404, `no route for ${decoded}; expected models/{model}:generateContent`);
  const action = decoded.slice(i + 1);
  if (!ACTIONS.has(action)) throw new HttpError(404, `unknown Gemini method ${JSON.stringify(action)}; supported: ${[...ACTIONS].join(", ")}`);
  return { model: decoded.slice(0, i), action };
}

export function generateRoutes(ctx: AppContext) {
  const handler = ({ params }: { params: { rest: string } }) => {
    splitModelAction(params.rest);
    throw new HttpError(503, "the upstream engine is not wired yet");
  };
  return new Elysia({ name: "gemini-generate" })
    .use(businessAuth(ctx))
    .post("/v1beta/models/:rest", handler, { body: GenerateContentBody })
    .post("/v1/models/:rest", handler, { body: GenerateContentBody });
}
