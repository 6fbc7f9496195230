/** Builds the Elysia application: body parsing, error shapes, and every route group. */
import { Elysia, ValidationError } from "elysia";
import { adminConsoleRoutes } from "./api/admin-console/console-routes.ts";
import { adminRoutes } from "./api/admin/admin-routes.ts";
import { healthRoutes } from "./api/health-routes.ts";
import { ollamaRoutes } from "./api/ollama-routes.ts";
import { ollamaChatRoutes } from "./api/ollama/chat-routes.ts";
import { ollamaGenerateRoutes } from "./api/ollama/generate-routes.ts";
import { OLLAMA_CHAT_PATHS, ollamaCaller } from "./api/ollama/ollama-auth.ts";
import { metricsRoutes } from "./api/metrics-route.ts";
import { messagesRoutes } from "./api/anthropic/messages-routes.ts";
import { generateRoutes } from "./api/gemini/generate-routes.ts";
import { chatRoutes } from "./api/openai/chat-routes.ts";
import { embeddingsRoutes } from "./api/openai/embeddings-routes.ts";
import { filesRoutes } from "./api/openai/files-routes.ts";
import { responsesRoutes } from "./api/openai/responses-routes.ts";
import { modelRoutes } from "./api/openai/models-routes.ts";
import { errorResponse } from "./api/error-response.ts";
import { HttpError } from "./api/http-error.ts";
import { AdminServiceError } from "./admin/admin-error.ts";
import { authenticatedBeforeBody, BodyError, describeValidation, jsonBodyParser } from "./api/request-body.ts";
import { pathOf } from "./api/request-target.ts";
import { authenticateCaller } from "./api/caller.ts";
import { RouteMethods } from "./api/route-methods.ts";
import { surfaceForPath } from "./api/surface.ts";
import type { AppContext } from "./context.ts";
import { TurnError } from "./core/turn/turn-error.ts";
import { DependencyUnavailableError } from "./core/cluster/ports.ts";
import { dependencyErrorResponse } from "./api/dependency-errors.ts";

export function createApp(ctx: AppContext) {
  let methods: RouteMethods | undefined;
  const { maxBodyBytes, maxSmallBodyBytes, bodyTimeoutMs } = ctx.options;
  const parseBody = jsonBodyParser({
    maxBodyBytes,
    maxSmallBodyBytes,
    bodyTimeoutMs,
    // A caller without a valid key never gets its body parsed (the business routes authenticate again, with quotas).
    beforeParse: (request, pathname) => {
      if (!authenticatedBeforeBody(request.method, pathname)) return;
      if (OLLAMA_CHAT_PATHS.has(pathname)) ollamaCaller(ctx, request);
      else authenticateCaller(request, new URL(request.url), ctx.apiKeys, ctx.options.allowDirectToken);
    },
  });
  const app = new Elysia({ name: "ds2api" })
    .onParse({ as: "global" }, parseBody)
    .onError({ as: "global" }, ({ code, error, request }) => {
      const pathname = pathOf(request.url);
      const surface = surfaceForPath(pathname);
      if (error instanceof HttpError) return errorResponse(surface, error.status, error.message, error.code, error.headers);
      if (error instanceof AdminServiceError) return errorResponse(surface, error.status, error.message);
      if (error instanceof TurnError) return errorResponse(surface, error.status, error.message, error.code);
      if (error instanceof DependencyUnavailableError) return dependencyErrorResponse(surface, error);
      switch (code) {
        case "NOT_FOUND": {
          methods ??= new RouteMethods(app.routes);
          const allowed = methods.allowed(pathname);
          if (allowed.length) {
            return errorResponse(surface, 405, `method ${request.method} is not allowed on ${pathname}; use ${allowed.join(", ")}`, undefined, {
              allow: allowed.join(", "),
            });
          }
          return errorResponse(surface, 404, `no route for ${request.method} ${pathname}`);
        }
        case "PARSE": {
          const cause = (error as { cause?: unknown }).cause;
          if (cause instanceof HttpError) return errorResponse(surface, cause.status, cause.message, cause.code, cause.headers);
          if (cause instanceof DependencyUnavailableError) return dependencyErrorResponse(surface, cause);
          return errorResponse(surface, 400, cause instanceof BodyError ? cause.message : "invalid json: the request body could not be parsed");
        }
        case "VALIDATION":
          return errorResponse(surface, 400, describeValidation(error as ValidationError));
        case "INVALID_COOKIE_SIGNATURE":
        case "INVALID_FILE_TYPE":
          return errorResponse(surface, 400, (error as Error).message);
        default:
          ctx.logger.error("unhandled error", { path: pathname, error: (error as Error)?.stack ?? String(error) });
          return errorResponse(surface, 500, "internal error; see the server log");
      }
    })
    .use(healthRoutes(ctx))
    .use(metricsRoutes(ctx))
    .use(modelRoutes(ctx))
    .use(ollamaRoutes(ctx))
    .use(ollamaChatRoutes(ctx))
    .use(ollamaGenerateRoutes(ctx))
    .use(chatRoutes(ctx))
    .use(embeddingsRoutes(ctx))
    .use(filesRoutes(ctx))
    .use(responsesRoutes(ctx))
    .use(messagesRoutes(ctx))
    .use(generateRoutes(ctx))
    .use(adminRoutes(ctx))
    .use(adminConsoleRoutes()); // last: the console's SPA fallback must not shadow admin API routes
  return app;
}

export type App = ReturnType<typeof createApp>;
