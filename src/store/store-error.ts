/** A database that cannot be opened or used as is; main prints its message (no stack) and exits. */
export class StoreError extends Error {}
