/**
 * The work of the admin jobs: test every account (as `POST /admin/accounts/test-all`, with progress) and import a
 * bulk list of accounts (as `POST /admin/accounts/bulk`, in chunks, yielding between them so that the server keeps
 * answering). Their results have the shapes of those synchronous routes.
 */
import { audit, type AdminDeps } from "./admin-deps.ts";
import { testAllAccounts, type TestAllResult } from "./account-test.ts";
import { parseBulkAccounts } from "./bulk-accounts.ts";
import type { Job } from "./jobs.ts";

/** Accounts written per sqlite transaction before the import yields to other requests. */
export const BULK_CHUNK = 100;

export async function runTestAll(d: AdminDeps, request: Request, job: Job, model: string): Promise<TestAllResult> {
  const all = await testAllAccounts(d, model, {
    total: (n) => (job.total = n),
    started: (account) => (job.current = account.identifier),
    finished: (r) => job.step(r.success),
  });
  await audit(d, request, "accounts.test_all", undefined, { total: all.total, success: all.success, job: job.id });
  return all;
}

export interface BulkImportResult {
  success: boolean;
  imported: number;
  updated: number;
  errors: string[];
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function runBulkImport(d: AdminDeps, request: Request, job: Job, text: string): Promise<BulkImportResult> {
  const { accounts, errors } = parseBulkAccounts(text, await d.proxies.list());
  job.total = accounts.length + errors.length;
  job.step(false, errors.length);
  let imported = 0;
  let updated = 0;
  // One transaction (with its audit row and change event) per chunk through the accounts service, yielding between.
  for (let start = 0; start < accounts.length; start += BULK_CHUNK) {
    const chunk = accounts.slice(start, start + BULK_CHUNK);
    job.current = chunk[0]!.identifier;
    const done = await d.accounts.importParsed(d.whoIs(request), chunk, { job: job.id, ...(start === 0 ? { errors: errors.length } : {}) });
    imported += done.imported;
    updated += done.updated;
    job.step(true, chunk.length);
    await nextTurn();
  }
  return { success: imported + updated > 0 || errors.length === 0, imported, updated, errors };
}
