/**
 * Account tests (`POST /admin/accounts/test`, `/test-all`): a fresh login (token stored), a new session,
 * the session count, and optionally one completion with the given message — run by the accounts'
 * provider (`AccountAdmin.test`), which bypasses the pool and its in-flight limits.
 */
import { Elysia, t } from "elysia";
import { resolveModel } from "../../core/models/index.ts";
import type { AccountRecord } from "../../store/accounts-repo.ts";
import { badRequest } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { requireAccount } from "./account-view.ts";
import { accountAdmin } from "./provider-admin.ts";

const DEFAULT_MODEL = "deepseek-v4-flash";
/** Accounts tested at once by test-all. */
export const TEST_ALL_PARALLEL = 5;

export interface AccountTestResult {
  account: string;
  success: boolean;
  response_time: number;
  message: string;
  model: string;
  session_count: number;
  thinking?: string;
}

export async function testAccount(d: AdminDeps, account: AccountRecord, model: string, message?: string): Promise<AccountTestResult> {
  const { store } = d.ctx;
  const accounts = accountAdmin(d.ctx);
  const started = performance.now();
  const result = (success: boolean, text: string, sessionCount = 0, thinking?: string): AccountTestResult => ({
    account: account.identifier,
    success,
    response_time: Math.round(performance.now() - started),
    message: text,
    model,
    session_count: sessionCount,
    ...(thinking ? { thinking } : {}),
  });
  const resolved = resolveModel(model, d.ctx.settings.modelAliases(), d.ctx.providers.catalog());
  if (!resolved) return result(false, `unknown model ${JSON.stringify(model)}`);
  if (!account.password) {
    d.testStatus.set(account.identifier, "failed");
    return result(false, "no password is stored for this account, so it cannot log in");
  }
  d.testStatus.set(account.identifier, "testing");
  // Login (the token is stored), session, session count and the optional completion run in the provider.
  const outcome = await accounts.test(account, resolved, message);
  if (outcome.ok) {
    await accounts.markHealthy(account.identifier);
    d.testStatus.set(account.identifier, "ok");
    return result(true, outcome.text, outcome.sessionCount, outcome.thinking);
  }
  const msg = outcome.message;
  d.testStatus.set(account.identifier, "failed");
  if (outcome.stage === "login") await accounts.markFailing(account.identifier, "login", msg);
  else await store.accounts.recordError(account.identifier, msg);
  d.errors.add("account_test", account.identifier, msg);
  return result(false, msg);
}

/** Run `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface TestAllResult {
  total: number;
  success: number;
  failed: number;
  results: AccountTestResult[];
}

/**
 * Test every account, `TEST_ALL_PARALLEL` at a time (the synchronous route and the background job both run this).
 * A test that throws is that account's failure, not the whole run's. `progress` hears the count, each start and each result.
 */
export async function testAllAccounts(
  d: AdminDeps,
  model: string,
  progress: { total?(n: number): void; started?(account: AccountRecord): void; finished?(result: AccountTestResult): void } = {},
): Promise<TestAllResult> {
  const accounts = await d.accounts.list();
  progress.total?.(accounts.length);
  for (const a of accounts) d.testStatus.set(a.identifier, "testing");
  const results = await mapBounded(accounts, TEST_ALL_PARALLEL, async (account) => {
    progress.started?.(account);
    let r: AccountTestResult;
    try {
      r = await testAccount(d, account, model);
    } catch (e) {
      d.testStatus.set(account.identifier, "failed");
      r = { account: account.identifier, success: false, response_time: 0, message: (e as Error)?.message ?? String(e), model, session_count: 0 };
    }
    progress.finished?.(r);
    return r;
  });
  const ok = results.filter((r) => r.success).length;
  return { total: results.length, success: ok, failed: results.length - ok, results };
}

const Model = t.Optional(t.String({ minLength: 1, maxLength: 100 }));

export function accountTestRoutes(d: AdminDeps) {
  return (app: Elysia<"/admin">) =>
    app
      .post(
        "/accounts/test",
        async ({ body, request }) => {
          const account = await requireAccount(d, body.identifier);
          const model = body.model ?? DEFAULT_MODEL;
          if (!resolveModel(model, d.ctx.settings.modelAliases(), d.ctx.providers.catalog())) throw badRequest(`unknown model ${JSON.stringify(model)}`);
          const r = await testAccount(d, account, model, body.message?.trim() || undefined);
          await audit(d, request, "accounts.test", account.identifier, { success: r.success });
          return r;
        },
        { body: t.Object({ identifier: t.String({ minLength: 1, maxLength: 320 }), model: Model, message: t.Optional(t.String({ maxLength: 20_000 })) }) },
      )
      .post(
        "/accounts/test-all",
        async ({ body, request }) => {
          const model = body?.model ?? DEFAULT_MODEL;
          if (!resolveModel(model, d.ctx.settings.modelAliases(), d.ctx.providers.catalog())) throw badRequest(`unknown model ${JSON.stringify(model)}`);
          const all = await testAllAccounts(d, model);
          await audit(d, request, "accounts.test_all", undefined, { total: all.total, success: all.success });
          return all;
        },
        { body: t.Optional(t.Object({ model: Model })) },
      );
}
