/**
 * Account tests (`POST /admin/accounts/test`, `/test-all`): a fresh login (token stored), a new session,
 * the session count, and optionally one completion with the given message. They use the web client
 * directly, so they bypass the pool and its in-flight limits.
 */
import { Elysia, t } from "elysia";
import { resolveModel } from "../../core/models/index.ts";
import type { AccountRecord } from "../../store/accounts-repo.ts";
import { redact } from "../../upstream/deepseek/errors.ts";
import { runCompletion } from "../../upstream/deepseek/completion-runner.ts";
import { badRequest } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { requireAccount } from "./account-view.ts";

const DEFAULT_MODEL = "deepseek-v4-flash";
const TEST_ALL_PARALLEL = 5;

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
  const { store, engine } = d.ctx;
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
  const resolved = resolveModel(model, d.ctx.settings.modelAliases());
  if (!resolved) return result(false, `unknown model ${JSON.stringify(model)}`);
  if (!account.password) {
    d.testStatus.set(account.identifier, "failed");
    return result(false, "no password is stored for this account, so it cannot log in");
  }
  d.testStatus.set(account.identifier, "testing");
  const client = engine.client(account.identifier);
  let token: string | undefined;
  let stage = "login";
  try {
    token = (await client.login({ email: account.email, mobile: account.mobile, password: account.password })).token;
    store.accounts.setToken(account.identifier, token);
    stage = "session";
    const sessionId = await client.createSession(token);
    const sessions = (await client.fetchPage(token)).sessions.length;
    let text = "login and session OK";
    let thinking: string | undefined;
    if (message) {
      stage = "completion";
      const run = runCompletion({
        client,
        token,
        sessionId,
        payload: { prompt: message, modelType: resolved.modelType, thinkingEnabled: resolved.thinkingDefault, searchEnabled: resolved.search },
      });
      await run.collect();
      if (run.state.error) throw new Error(run.state.error);
      text = run.state.text;
      thinking = run.state.reasoning || undefined;
    }
    engine.pool.markHealthy(account.identifier);
    d.testStatus.set(account.identifier, "ok");
    return result(true, text, sessions, thinking);
  } catch (e) {
    const msg = redact(`${stage} failed: ${(e as Error)?.message ?? String(e)}`, [account.password, token]);
    d.testStatus.set(account.identifier, "failed");
    if (stage === "login") engine.pool.markFailing(account.identifier, "login", msg);
    else store.accounts.recordError(account.identifier, msg);
    d.errors.add("account_test", account.identifier, msg);
    return result(false, msg);
  }
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

const Model = t.Optional(t.String({ minLength: 1, maxLength: 100 }));

export function accountTestRoutes(d: AdminDeps) {
  return (app: Elysia<"/admin">) =>
    app
      .post(
        "/accounts/test",
        async ({ body, request }) => {
          const account = requireAccount(d, body.identifier);
          const model = body.model ?? DEFAULT_MODEL;
          if (!resolveModel(model, d.ctx.settings.modelAliases())) throw badRequest(`unknown model ${JSON.stringify(model)}`);
          const r = await testAccount(d, account, model, body.message?.trim() || undefined);
          audit(d, request, "accounts.test", account.identifier, { success: r.success });
          return r;
        },
        { body: t.Object({ identifier: t.String({ minLength: 1, maxLength: 320 }), model: Model, message: t.Optional(t.String({ maxLength: 20_000 })) }) },
      )
      .post(
        "/accounts/test-all",
        async ({ body, request }) => {
          const model = body?.model ?? DEFAULT_MODEL;
          if (!resolveModel(model, d.ctx.settings.modelAliases())) throw badRequest(`unknown model ${JSON.stringify(model)}`);
          const accounts = d.ctx.store.accounts.list();
          for (const a of accounts) d.testStatus.set(a.identifier, "testing");
          const results = await mapBounded(accounts, TEST_ALL_PARALLEL, (a) => testAccount(d, a, model));
          const ok = results.filter((r) => r.success).length;
          audit(d, request, "accounts.test_all", undefined, { total: results.length, success: ok });
          return { total: results.length, success: ok, failed: results.length - ok, results };
        },
        { body: t.Optional(t.Object({ model: Model })) },
      );
}
