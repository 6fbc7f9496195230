/**
 * Delete every DeepSeek chat session of one account (admin `POST /admin/accounts/sessions/delete-all`):
 * a fresh login (the token is stored, as the account test does), then `chat_session/delete_all`.
 * Failure messages never carry the password or token.
 */
import type { AccountCredentials, AccountSessionsOutcome } from "../../core/upstream/provider.ts";
import type { DeepSeekClient } from "./client.ts";
import { redact } from "./errors.ts";

export interface AccountSessionsDeps {
  client: DeepSeekClient;
  /** Store the fresh token (and let the pool use it). */
  saveToken(identifier: string, token: string): Promise<void>;
  deviceId?: string;
}

export async function deleteDeepSeekSessions(deps: AccountSessionsDeps, account: AccountCredentials): Promise<AccountSessionsOutcome> {
  const { client, deviceId } = deps;
  let token: string | undefined;
  let stage = "login";
  try {
    token = (await client.login({ email: account.email, mobile: account.mobile, password: account.password ?? "", deviceId })).token;
    await deps.saveToken(account.identifier, token);
    stage = "delete";
    await client.deleteAllSessions(token);
    return { ok: true };
  } catch (e) {
    return { ok: false, stage, message: redact(`${stage} failed: ${(e as Error)?.message ?? String(e)}`, [account.password, token]) };
  }
}
