/**
 * `POST /admin/accounts/sessions/delete-all` `{identifier}` (Go ds2api §12.4): log the account in and delete
 * every chat session it holds upstream, through the accounts' provider (`AccountAdmin.deleteSessions`).
 * Always 200 `{success, message}` once the account is found, as the Go route answers.
 */
import { t } from "elysia";
import type { Elysia } from "elysia";
import { HttpError } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AppContext } from "../../context.ts";
import { audit, type RequestActor } from "./admin-deps.ts";
import type { RecentErrors } from "./recent-errors.ts";

/** What the sessions route needs: account lookup, the audit log, who is asking, the accounts' provider, the recent-errors list. */
export type SessionsRouteDeps = Pick<AdminServices, "accounts" | "audit"> & RequestActor & { ctx: Pick<AppContext, "providers">; errors: RecentErrors };
import { requireAccount } from "./account-view.ts";
import { accountAdmin } from "./provider-admin.ts";

export function sessionsRoutes(d: SessionsRouteDeps) {
  return (app: Elysia<"/admin">) =>
    app.post(
      "/accounts/sessions/delete-all",
      async ({ body, request }) => {
        const account = await requireAccount(d, body.identifier);
        const accounts = accountAdmin(d.ctx);
        if (!accounts.deleteSessions) throw new HttpError(501, "the accounts' provider keeps no remote sessions to delete");
        if (!account.password) return { success: false, message: "no password is stored for this account, so it cannot log in" };
        const outcome = await accounts.deleteSessions(account);
        await audit(d, request, "accounts.sessions.delete_all", account.identifier, { success: outcome.ok, ...(outcome.ok ? {} : { stage: outcome.stage }) });
        if (outcome.ok) return { success: true, message: "all sessions deleted" };
        if (outcome.stage === "login") await accounts.markFailing(account.identifier, "login", outcome.message);
        d.errors.add("sessions_delete", account.identifier, outcome.message);
        return { success: false, message: outcome.message };
      },
      { body: t.Object({ identifier: t.String({ minLength: 1, maxLength: 320 }) }) },
    );
}
