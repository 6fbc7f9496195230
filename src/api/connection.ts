/** Connection hygiene helpers for the server wrapper: idle timer per request, unread bodies, end of streams. */
import type { Server } from "bun";

/** Sets the idle timeout of the connection `request` came on (0: none); a connection already gone is ignored. */
export function setIdleTimeout(server: Server<undefined>, request: Request, seconds: number): void {
  try {
    server.timeout(request, seconds);
  } catch {
    // the client went away
  }
}

/** A small unread body has most likely arrived whole; Bun skips it and the connection stays usable. */
const SMALL_UNREAD_BODY = 64 * 1024;

/** Whether an unread body may still be arriving: chunked, or announced larger than a few packets. */
export function mayStillBeSending(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return Number(length) > SMALL_UNREAD_BODY;
  return request.headers.has("transfer-encoding");
}

/** A streamed body (SSE, or Ollama's NDJSON) that must not be cut by the idle timer while it is produced. */
export function isEventStream(response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  return type.startsWith("text/event-stream") || type.startsWith("application/x-ndjson");
}

/** The same response, calling `onEnd` once its body has been fully produced (not when the client cancels). */
export function onStreamEnd(response: Response, onEnd: () => void): Response {
  if (!response.body) {
    onEnd();
    return response;
  }
  const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => onEnd() }));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
