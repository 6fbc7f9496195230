/**
 * The admin account test against DeepSeek: a fresh login (the token is stored), a new session, the
 * session count, and optionally one completion with the given message. It uses the web client directly,
 * so it bypasses the pool and its in-flight limits. Failure messages never carry the password or token.
 */
import type { ModelSpec } from "../../core/models/native.ts";
import type { AccountCredentials, AccountTestOutcome } from "../../core/upstream/provider.ts";
import type { DeepSeekClient } from "./client.ts";
import { runCompletion } from "./completion-runner.ts";
import { DeepSeekError, redact } from "./errors.ts";
import { deepSeekFlags } from "./models.ts";

export interface AccountTestDeps {
  client: DeepSeekClient;
  /** Store the fresh token (and let the pool use it). */
  saveToken(identifier: string, token: string): Promise<void>;
  /** The device id the account logs in with. */
  deviceId?: string;
  /** Put the account into the state DeepSeek's answer calls for (device refused, muted). */
  markState(kind: "risk_device" | "muted", message: string): void | Promise<void>;
}

/**
 * A passing test is the operator's "re-test" that ends a `risk_device` / `muted` state (the caller marks the
 * account healthy); a refused device or a mute puts the account into that state, with the stage named after it
 * (not "login", so the caller does not overwrite it with a failed-login cool-down).
 */
export async function testDeepSeekAccount(deps: AccountTestDeps, account: AccountCredentials, model: ModelSpec, message?: string): Promise<AccountTestOutcome> {
  const { client, deviceId } = deps;
  let token: string | undefined;
  let stage = "login";
  try {
    token = (await client.login({ email: account.email, mobile: account.mobile, password: account.password ?? "", deviceId })).token;
    await deps.saveToken(account.identifier, token);
    stage = "session";
    const sessionId = await client.createSession(token);
    const sessions = (await client.fetchPage(token)).sessions.length;
    let text = "login and session OK";
    let thinking: string | undefined;
    if (message) {
      stage = "completion";
      const flags = deepSeekFlags(model);
      const run = runCompletion({
        client,
        token,
        sessionId,
        payload: { prompt: message, modelType: flags.modelType, thinkingEnabled: model.thinkingDefault, searchEnabled: flags.searchEnabled },
      });
      await run.collect();
      if (run.state.error) throw new Error(run.state.error);
      text = run.state.text;
      thinking = run.state.reasoning || undefined;
    }
    return { ok: true, sessionCount: sessions, text, thinking };
  } catch (e) {
    if (e instanceof DeepSeekError && (e.kind === "risk_device" || e.kind === "muted")) {
      const text = redact(`${stage} refused: ${e.message}`, [account.password, token]);
      await deps.markState(e.kind, text);
      return { ok: false, stage: e.kind, message: text };
    }
    return { ok: false, stage, message: redact(`${stage} failed: ${(e as Error)?.message ?? String(e)}`, [account.password, token]) };
  }
}
