/** TurnError / pool outcomes → the HttpError every surface renders before a stream has started. */
import { DependencyUnavailableError } from "../core/cluster/ports.ts";
import { TurnError } from "../core/turn/turn-error.ts";
import { HttpError } from "./http-error.ts";

export function toHttpError(e: unknown): unknown {
  if (e instanceof TurnError) {
    return new HttpError(e.status, e.message, e.code, e.retryAfterSeconds ? { "retry-after": String(e.retryAfterSeconds) } : undefined);
  }
  return e;
}

/** Status, message and code of any failure, for in-stream error frames. */
export function describeFailure(e: unknown): { status: number; message: string; code: string } {
  if (e instanceof TurnError || e instanceof HttpError) return { status: e.status, message: e.message, code: e.code ?? "error" };
  if (e instanceof DependencyUnavailableError) return { status: e.status, message: e.message, code: e.code };
  return { status: 500, message: "internal error; see the server log", code: "internal_error" };
}
