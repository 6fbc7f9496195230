/**
 * DeepSeek tokens per account: log in on first use, re-login when the token is older than the refresh
 * interval or was rejected, persist tokens in sqlite, and never run two logins for one account at once.
 */
import type { AccountRecord } from "../store/accounts-repo.ts";
import type { Store } from "../store/store.ts";
import { LoginError } from "./pool-errors.ts";

/** Logs an account in and returns its token; throws LoginError. */
export type LoginFn = (account: AccountRecord) => Promise<string>;

export class TokenManager {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Number of logins actually performed (for tests and metrics). */
  loginCount = 0;

  constructor(
    private readonly store: Store,
    private readonly login: LoginFn,
    private readonly refreshMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  async token(id: string): Promise<string> {
    const account = this.account(id);
    if (account.token && account.tokenAt && this.now() - account.tokenAt < this.refreshMs()) return account.token;
    return this.loginOnce(id);
  }

  async relogin(id: string, staleToken: string): Promise<string> {
    const account = this.account(id);
    if (account.token && account.token !== staleToken) return account.token;
    return this.loginOnce(id, true);
  }

  /** Forget the token (e.g. after the password changed). */
  forget(id: string): void {
    this.store.accounts.setToken(id, null);
  }

  private account(id: string): AccountRecord {
    const a = this.store.accounts.get(id);
    if (!a) throw new LoginError(`account ${id} no longer exists`, id, false);
    return a;
  }

  private loginOnce(id: string, invalidate = false): Promise<string> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = (async () => {
      if (invalidate) this.store.accounts.setToken(id, null);
      const account = this.account(id);
      if (!account.password) throw new LoginError(`account ${id} has no password stored, so it cannot log in`, id, true);
      this.loginCount++;
      const token = await this.login(account);
      this.store.accounts.setToken(id, token);
      return token;
    })().finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }
}
