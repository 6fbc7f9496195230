/** The admin API's body rule, checked before schema validation. */
import { badRequest } from "../http-error.ts";

const WRITES = new Set(["POST", "PUT", "PATCH"]);
/** The only admin writes that take no input at all, so may come without a body. */
const NO_INPUT = /^\/admin\/(accounts\/[^/]+\/(enable|disable)|providers\/[^/]+\/credentials(\/[^/]+\/(enable|disable|reset|test)|\/reset))$/;

/**
 * Every admin write carries a JSON object (`{}` when it has nothing to say): `42`, `"s"`, `null`, `[]` or no
 * body at all are refused, so an all-optional schema cannot turn them into "use the defaults" (a random
 * key, an empty config update). Only enable/disable (and a credential's reset/test) may come without a body.
 */
export function requireObjectBody(request: Request, body: unknown): void {
  if (!WRITES.has(request.method)) return;
  if (body !== null && typeof body === "object" && !Array.isArray(body)) return;
  if (body === undefined && NO_INPUT.test(new URL(request.url).pathname)) return;
  throw badRequest("invalid request: a JSON object body is required");
}
