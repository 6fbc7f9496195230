import { HttpError } from "./http-error.ts";

/**
 * Body parsing for every JSON route: strict UTF-8, JSON whatever the Content-Type says
 * (curl -d sends form-urlencoded), multipart left to the framework.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true });

export class BodyError extends Error {}

/** Builds the body parser for a given size limit (chunked bodies carry no Content-Length, so size is checked again here). */
export function jsonBodyParser(maxBytes: number) {
  return async ({ request, contentType }: { request: Request; contentType: string }): Promise<unknown> => {
    if (contentType.startsWith("multipart/")) return undefined;
    const buf = await request.arrayBuffer();
    if (buf.byteLength > maxBytes) throw new HttpError(413, `request body too large (limit ${maxBytes} bytes; DS2API_MAX_BODY_MB)`);
    return parseJsonText(buf);
  };
}

function parseJsonText(buf: ArrayBuffer): unknown {
  if (buf.byteLength === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    throw new BodyError("invalid json: the request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodyError(`invalid json: ${(e as Error).message.replace(/^JSON Parse error: /, "")}`);
  }
}

/** Readable one-line message for a schema validation failure. */
export function describeValidation(error: unknown): string {
  const v = error as { all?: { path?: string; message?: string }[]; type?: string };
  const first = v.all?.[0];
  if (!first) return "invalid request";
  const where = first.path ? `'${first.path.replace(/^\//, "").replace(/\//g, ".")}'` : "the request body";
  // TypeBox says "Expected union value" when no alternative fits; name it as a type problem instead.
  const msg = (first.message ?? "is invalid").replace(/^Expected union value$/, "has an unsupported type").replace(/^Expected/, "expected");
  if (!first.path && msg === "expected object") return "invalid request: a JSON object body is required";
  const more = (v.all?.length ?? 0) > 1 ? ` (and ${v.all!.length - 1} more problem${v.all!.length > 2 ? "s" : ""})` : "";
  return `invalid request: ${where} ${msg}${more}`;
}
