/**
 * DeepSeek tokens per account: log in on first use, re-login when the token is older than the refresh
 * interval or was rejected, persist tokens in the store, and never run two logins for one account at once.
 * Tokens are read from the in-memory account view (no store read per request); a new token is in the view at
 * once and written to the store without waiting.
 */
import type { AccountRecord } from "../store/accounts-repo.ts";
import type { AccountView } from "./account-view.ts";
import { LoginError } from "./pool-errors.ts";

/** Logs an account in and returns its token; throws LoginError. */
export type LoginFn = (account: AccountRecord) => Promise<string>;

export class TokenManager {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Number of logins actually performed (for tests and metrics). */
  loginCount = 0;

  constructor(
    private readonly view: AccountView,
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
    this.put(id, null);
  }

  /** A token obtained outside the pool (an admin account test): stored, and used by the next request. Waits for the write. */
  async store(id: string, token: string): Promise<void> {
    await this.view.save(id, { token, tokenAt: this.now() }, (accounts) => accounts.setToken(id, token));
  }

  private put(id: string, token: string | null): void {
    void this.view.update(id, { token: token ?? undefined, tokenAt: token ? this.now() : undefined }, (accounts) => accounts.setToken(id, token), token ? "store token" : "drop token");
  }

  private account(id: string): AccountRecord {
    const a = this.view.get(id);
    if (!a) throw new LoginError(`account ${id} no longer exists`, id, false);
    return a;
  }

  private loginOnce(id: string, invalidate = false): Promise<string> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = (async () => {
      if (invalidate) this.put(id, null);
      const account = this.account(id);
      if (!account.password) throw new LoginError(`account ${id} has no password stored, so it cannot log in`, id, true);
      this.loginCount++;
      const token = await this.login(account);
      this.put(id, token);
      return token;
    })().finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }
}
