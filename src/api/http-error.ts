/** An error with an HTTP status that every surface renders in its own error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Machine code (e.g. `upstream_empty_output`); each surface picks a default from the status otherwise. */
    readonly code?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code?: string) => new HttpError(400, message, code);
export const unauthorized = (message: string) => new HttpError(401, message);
export const notFound = (message: string) => new HttpError(404, message);
export const tooManyRequests = (message: string, retryAfterSeconds: number, code?: string) =>
  new HttpError(429, message, code, { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) });
