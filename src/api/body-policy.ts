/**
 * What a request body may cost, by route: conversation routes (chat, messages, generateContent, responses)
 * take large bodies; everything else (count_tokens, embeddings, admin, …) a small one. Business routes are
 * authenticated before their body is parsed, so a caller without a key cannot make the server parse JSON.
 */
export type BodyClass = "turn" | "business" | "other";

export interface BodyLimits {
  maxBodyBytes: number;
  maxSmallBodyBytes: number;
}

const TURN_PATHS = new Set(["/v1/chat/completions", "/chat/completions", "/v1/responses", "/responses", "/anthropic/v1/messages", "/v1/messages", "/messages", "/api/chat", "/api/generate"]);
const BUSINESS_PATHS = new Set(["/anthropic/v1/messages/count_tokens", "/v1/messages/count_tokens", "/messages/count_tokens", "/v1/embeddings", "/embeddings"]);
/** `POST /v1/files`: multipart uploads up to 100 MiB (§7.2). */
export const FILES_PATHS = new Set(["/v1/files", "/files"]);
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const GEMINI_ACTION = /^\/v1(?:beta)?\/models\/[^/]+?(?::|%3a)(generateContent|streamGenerateContent|countTokens)$/i;

export function bodyClass(pathname: string): BodyClass {
  if (TURN_PATHS.has(pathname)) return "turn";
  if (BUSINESS_PATHS.has(pathname) || FILES_PATHS.has(pathname)) return "business";
  const gemini = GEMINI_ACTION.exec(pathname);
  if (gemini) return gemini[1]!.toLowerCase() === "counttokens" ? "business" : "turn";
  return "other";
}

export interface BodyLimit {
  bytes: number;
  /** The setting that raises it, named in the 413 message. */
  setting: string;
  /** The 413 message, when the route has its own. */
  message?: string;
}

export function bodyLimitFor(pathname: string, limits: BodyLimits): BodyLimit {
  if (FILES_PATHS.has(pathname)) return { bytes: MAX_UPLOAD_BYTES, setting: "100 MiB upload limit", message: "file size exceeds limit" };
  return bodyClass(pathname) === "turn"
    ? { bytes: limits.maxBodyBytes, setting: "DS2API_MAX_BODY_MB" }
    : { bytes: limits.maxSmallBodyBytes, setting: "DS2API_MAX_SMALL_BODY_MB" };
}

export function bodyTooLargeMessage(limit: BodyLimit): string {
  if (limit.message) return limit.message;
  return `request body too large (limit ${limit.bytes} bytes for this route; ${limit.setting})`;
}
