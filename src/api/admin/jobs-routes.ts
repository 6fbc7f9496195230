/**
 * Long admin operations as jobs (the synchronous `POST /admin/accounts/test-all` and `/admin/accounts/bulk` stay
 * as they are, for Go ds2api clients):
 * - `POST /admin/jobs/accounts-test-all` `{model?}` and `POST /admin/jobs/accounts-bulk` `{text}` start one and
 *   answer 202 `{success, job_id, job}` at once; a second test-all while one runs is 409.
 * - `GET /admin/jobs` (`?kind=`, `?state=`) lists them newest first; `GET /admin/jobs/:id` adds the `result`, shaped
 *   as the synchronous route's answer, once finished. Progress is also pushed as `job` events on `/admin/events`.
 */
import { Elysia, t } from "elysia";
import { resolveModel } from "../../core/models/index.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import type { AdminDeps } from "./admin-deps.ts";
import { runBulkImport, runTestAll } from "./jobs-runners.ts";
import type { JobKind, JobRegistry, JobState } from "./jobs.ts";

const DEFAULT_TEST_MODEL = "deepseek-v4-flash";
const KINDS: readonly JobKind[] = ["accounts.test_all", "accounts.bulk_import"];
const STATES: readonly JobState[] = ["running", "succeeded", "failed"];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined || value === "") return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw badRequest(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(value.slice(0, 40))})`);
  return value as T;
}

export function jobsRoutes(d: AdminDeps, jobs: JobRegistry) {
  return (app: Elysia<"/admin">) =>
    app
      .get(
        "/jobs",
        ({ query }) => {
          const kind = oneOf(query.kind, KINDS, "kind");
          const state = oneOf(query.state, STATES, "state");
          return { items: jobs.list().filter((j) => (!kind || j.kind === kind) && (!state || j.state === state)).map((j) => j.view()) };
        },
        { query: t.Object({ kind: t.Optional(t.String({ maxLength: 40 })), state: t.Optional(t.String({ maxLength: 20 })) }) },
      )
      .get("/jobs/:id", ({ params }) => {
        const job = jobs.get(params.id);
        if (!job) throw notFound(`no job ${JSON.stringify(params.id.slice(0, 60))} (finished jobs are kept for an hour)`);
        return { ...job.view(), result: job.result };
      })
      .post(
        "/jobs/accounts-test-all",
        ({ body, request, set }) => {
          const model = body?.model ?? DEFAULT_TEST_MODEL;
          if (!resolveModel(model, d.ctx.settings.modelAliases(), d.ctx.providers.catalog())) throw badRequest(`unknown model ${JSON.stringify(model)}`);
          const running = jobs.running("accounts.test_all");
          if (running) throw new HttpError(409, `a test of all accounts is already running (job ${running.id}); follow it at /admin/jobs/${running.id}`);
          const job = jobs.start("accounts.test_all", (j) => runTestAll(d, request, j, model));
          set.status = 202;
          return { success: true, job_id: job.id, job: job.view() };
        },
        { body: t.Optional(t.Object({ model: t.Optional(t.String({ minLength: 1, maxLength: 100 })) })) },
      )
      .post(
        "/jobs/accounts-bulk",
        ({ body, request, set }) => {
          if (!body.text.trim()) throw badRequest("text is empty: paste one email:password per line, or a ds2api config");
          const job = jobs.start("accounts.bulk_import", (j) => runBulkImport(d, request, j, body.text));
          set.status = 202;
          return { success: true, job_id: job.id, job: job.view() };
        },
        { body: t.Object({ text: t.String({ minLength: 1, maxLength: 5_000_000 }) }) },
      );
}
