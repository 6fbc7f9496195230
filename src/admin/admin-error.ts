/** A refused admin operation: the status and message the admin API answers (`{"detail": message}`), never a 500. */
export class AdminServiceError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 501,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new AdminServiceError(400, message);
export const missing = (message: string) => new AdminServiceError(404, message);
export const conflict = (message: string) => new AdminServiceError(409, message);
