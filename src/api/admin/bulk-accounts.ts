/** Bulk account parsing moved to the admin core (src/admin/bulk-accounts.ts); re-exported for route code. */
export { parseBulkAccounts, type BulkParse } from "../../admin/bulk-accounts.ts";
