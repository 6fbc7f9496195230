import { bodyClass, bodyLimitFor, FILES_PATHS, bodyTooLargeMessage, type BodyLimit, type BodyLimits } from "./body-policy.ts";
import { yieldToLoop } from "./event-loop.ts";
import { HttpError } from "./http-error.ts";
import { JsonDepthScanner, MAX_JSON_DEPTH } from "./json-depth.ts";
import { pathOf } from "./request-target.ts";

/**
 * Body parsing for every route: JSON whatever the Content-Type says (curl -d sends form-urlencoded), strict
 * UTF-8, a size limit per route (checked while reading, so chunked bodies stop at the limit), a deadline for
 * the whole body, and a nesting-depth limit checked on the bytes before JSON.parse. The depth scan runs
 * chunk by chunk as the body arrives, yielding to other requests between large slices.
 */
export class BodyError extends Error {}

export interface BodyParserOptions extends BodyLimits {
  /** The whole body must arrive within this many ms of the parser starting (0: no deadline). */
  bodyTimeoutMs: number;
  /**
   * Runs before a body is parsed (e.g. authentication of business routes). When it throws, the body is read
   * and dropped unparsed, then the error is the answer.
   */
  beforeParse?: (request: Request, pathname: string) => void;
}

/** Work on one piece of a body before yielding to the event loop. */
const SLICE_BYTES = 256 * 1024;
/** Yield after this much uninterrupted work on one body. */
const YIELD_AFTER_MS = 4;

/** Above this size, copying, decoding and parsing a body are separated by trips through the event loop. */
const LARGE_BODY_BYTES = 1024 * 1024;
/** How long the body of a refused request (e.g. no valid key) is read before the answer closes the connection. */
const REFUSED_DRAIN_MS = 5000;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function bodyTimeout(timeoutMs: number): HttpError {
  return new HttpError(408, `request body not received within ${timeoutMs / 1000} s (DS2API_BODY_TIMEOUT_SECONDS)`, "request_timeout", { connection: "close" });
}

/**
 * Reads a request body within `limit` and `timeoutMs`, handing each piece (at most SLICE_BYTES) to `feed`.
 * Returns the byte count. Over the limit: 413; past the deadline: 408 (both close the connection).
 */
export async function readBody(request: Request, limit: BodyLimit, timeoutMs: number, feed?: (piece: Uint8Array) => void): Promise<number> {
  const body = request.body;
  if (!body) return 0;
  const reader = body.getReader();
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          reader.cancel().catch(() => {});
        }, timeoutMs)
      : undefined;
  let total = 0;
  let workStarted = performance.now();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (timedOut) throw bodyTimeout(timeoutMs);
        throw new BodyError(`the request body could not be read: ${(e as Error)?.message ?? e}`);
      }
      if (timedOut) throw bodyTimeout(timeoutMs);
      if (chunk.done) return total;
      const bytes = chunk.value;
      total += bytes.byteLength;
      if (total > limit.bytes) {
        reader.cancel().catch(() => {});
        throw new HttpError(413, bodyTooLargeMessage(limit), "request_too_large", { connection: "close" });
      }
      if (!feed) continue;
      // Chunks of an already-buffered body arrive without a trip through the event loop: the budget spans chunks.
      for (let at = 0; at < bytes.byteLength; at += SLICE_BYTES) {
        if (performance.now() - workStarted > YIELD_AFTER_MS) {
          await yieldToLoop();
          if (timedOut) throw bodyTimeout(timeoutMs);
          workStarted = performance.now();
        }
        feed(at === 0 && bytes.byteLength <= SLICE_BYTES ? bytes : bytes.subarray(at, at + SLICE_BYTES));
      }
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

/** Reads a JSON body: depth-limited as it arrives, then strict UTF-8 and JSON.parse; undefined for an empty body. */
export async function readJsonBody(request: Request, limit: BodyLimit, timeoutMs: number): Promise<unknown> {
  const depth = new JsonDepthScanner(MAX_JSON_DEPTH);
  const pieces: Uint8Array[] = [];
  const bytes = await readBody(request, limit, timeoutMs, (piece) => {
    // Past the depth limit the rest is still read (so the client sees the answer) but not kept.
    if (depth.push(piece)) pieces.push(piece);
  });
  if (bytes === 0) return undefined;
  if (depth.exceeded) throw new BodyError(`invalid json: nesting deeper than ${MAX_JSON_DEPTH} levels`);
  // A large body's copy, decode and parse each get their own turn of the event loop.
  const large = bytes > LARGE_BODY_BYTES;
  const whole = concat(pieces, bytes);
  if (large) await yieldToLoop();
  let text: string;
  try {
    // One decode of the whole body: much faster than a streaming decode of its pieces.
    text = utf8.decode(whole);
  } catch {
    throw new BodyError("invalid json: the request body is not valid UTF-8");
  }
  if (large) await yieldToLoop();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodyError(`invalid json: ${(e as Error).message.replace(/^JSON Parse error: /, "")}`);
  }
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function readFormBody(request: Request, limit: BodyLimit, timeoutMs: number): Promise<Record<string, unknown>> {
  const pieces: Uint8Array<ArrayBuffer>[] = [];
  await readBody(request, limit, timeoutMs, (piece) => pieces.push(piece.slice()));
  let form: FormData;
  try {
    // The full header: it carries the boundary.
    form = await new Response(new Blob(pieces), { headers: { "content-type": request.headers.get("content-type") ?? "" } }).formData();
  } catch {
    throw new BodyError("invalid multipart body");
  }
  const out: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key);
    out[key] = all.length > 1 ? all : all[0];
  }
  return out;
}

/** The Elysia parse hook for the given limits. */
export function jsonBodyParser(options: BodyParserOptions) {
  return async ({ request, contentType }: { request: Request; contentType: string }): Promise<unknown> => {
    const pathname = pathOf(request.url);
    const limit = bodyLimitFor(pathname, options);
    if (options.beforeParse) {
      try {
        options.beforeParse(request, pathname);
      } catch (e) {
        // Read what arrives quickly (so the client, still sending, sees the answer); a slow body gets the answer with the connection closed.
        const drained = await readBody(request, limit, Math.min(options.bodyTimeoutMs || REFUSED_DRAIN_MS, REFUSED_DRAIN_MS)).then(
          () => true,
          () => false,
        );
        if (drained || !(e instanceof HttpError)) throw e;
        throw new HttpError(e.status, e.message, e.code, { ...e.headers, connection: "close" });
      }
    }
    if (contentType.startsWith("multipart/")) return readFormBody(request, limit, options.bodyTimeoutMs);
    if (FILES_PATHS.has(pathname) && request.method === "POST") throw new HttpError(400, "content-type must be multipart/form-data");
    return readJsonBody(request, limit, options.bodyTimeoutMs);
  };
}

/** Whether a route's body is read only after its caller is authenticated (business POST routes). */
export function authenticatedBeforeBody(method: string, pathname: string): boolean {
  return method === "POST" && bodyClass(pathname) !== "other";
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
