/** Error bodies in each surface's own shape (api-surface.md §11, with the [fix] shapes for Anthropic). */
import type { Surface } from "./surface.ts";

const OPENAI_TYPES: Record<number, [string, string]> = {
  400: ["invalid_request_error", "invalid_request"],
  401: ["authentication_error", "authentication_failed"],
  403: ["permission_error", "forbidden"],
  404: ["invalid_request_error", "not_found"],
  405: ["invalid_request_error", "method_not_allowed"],
  408: ["invalid_request_error", "request_timeout"],
  413: ["invalid_request_error", "request_too_large"],
  422: ["invalid_request_error", "unprocessable_entity"],
  429: ["rate_limit_error", "rate_limit_exceeded"],
  502: ["api_error", "bad_gateway"],
  503: ["service_unavailable_error", "service_unavailable"],
  504: ["api_error", "gateway_timeout"],
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  408: "invalid_request_error",
  413: "request_too_large",
  422: "invalid_request_error",
  429: "rate_limit_error",
  // Upstream unavailable (WAF, outage, every account resting): Anthropic's own word for "retry later".
  503: "overloaded_error",
  529: "overloaded_error",
};

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  408: "DEADLINE_EXCEEDED",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export function openAiErrorBody(status: number, message: string, code?: string) {
  const [type, defaultCode] = OPENAI_TYPES[status] ?? (status >= 500 ? ["api_error", "internal_error"] : ["invalid_request_error", "invalid_request"]);
  return { error: { message, type, code: code ?? defaultCode, param: null } };
}

export function anthropicErrorBody(status: number, message: string, code?: string) {
  const type = ANTHROPIC_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return { type: "error", error: { type, message, ...(code ? { code } : {}) } };
}

export function geminiErrorBody(status: number, message: string) {
  return { error: { code: status, message, status: GEMINI_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT") } };
}

export function errorBody(surface: Surface, status: number, message: string, code?: string): unknown {
  switch (surface) {
    case "anthropic":
      return anthropicErrorBody(status, message, code);
    case "gemini":
      return geminiErrorBody(status, message);
    case "ollama":
      return { error: message };
    case "admin":
      return { detail: message };
    default:
      return openAiErrorBody(status, message, code);
  }
}

export function errorResponse(surface: Surface, status: number, message: string, code?: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(errorBody(surface, status, message, code)), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
