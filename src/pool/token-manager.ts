/**
 * DeepSeek tokens per account: log in on first use, re-login when the token is older than the refresh
 * interval or was rejected, persist tokens in the store, and never run two logins for one account at once.
 * Tokens are read from the in-memory account view (no store read per request); a new token is in the view at
 * once and written to the store without waiting.
 *
 * Several instances (`ClusterTokens` given, docs/design/multi-instance.md §4 "Login once"): a token is read from
 * a local memo (cleared when another instance announces a new token), else the cluster's copy, else the view; a
 * login goes through `loginOnce`, so one instance of the cluster logs an account in and the others take its token.
 * Redis being unreachable is thrown as it is (a DependencyUnavailableError, never a failed login).
 */
import type { ClusterTokens } from "../core/cluster/ports.ts";
import type { AccountRecord } from "../store/accounts-repo.ts";
import type { AccountView } from "./account-view.ts";
import { LoginError } from "./pool-errors.ts";

/** Logs an account in and returns its token; throws LoginError. */
export type LoginFn = (account: AccountRecord) => Promise<string>;

interface HeldToken {
  token: string;
  at: number;
}

export class TokenManager {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Cluster mode: the token this instance last used per account, until another instance announces a new one. */
  private readonly memo = new Map<string, HeldToken>();
  private readonly stopChanged: (() => void) | undefined;
  /** Number of logins actually performed (for tests and metrics). */
  loginCount = 0;

  constructor(
    private readonly view: AccountView,
    private readonly login: LoginFn,
    private readonly refreshMs: () => number,
    private readonly now: () => number = Date.now,
    private readonly cluster?: ClusterTokens,
  ) {
    this.stopChanged = cluster?.onChanged((id) => this.memo.delete(id));
  }

  async token(id: string): Promise<string> {
    const account = this.account(id);
    if (this.cluster) return this.clusterToken(account, this.cluster);
    if (account.token && account.tokenAt && this.fresh(account.tokenAt)) return account.token;
    return this.loginOnce(id);
  }

  async relogin(id: string, staleToken: string): Promise<string> {
    const account = this.account(id);
    if (this.cluster) {
      // Another request here already got a new one.
      const held = this.memo.get(id);
      if (held && held.token !== staleToken) return held.token;
      this.memo.delete(id);
      return this.loginOnce(id, staleToken, true);
    }
    if (account.token && account.token !== staleToken) return account.token;
    return this.loginOnce(id, staleToken, true);
  }

  /** Forget the token (e.g. after the password changed). */
  forget(id: string): void {
    this.memo.delete(id);
    this.put(id, null);
  }

  /** A token obtained outside the pool (an admin account test): stored, and used by the next request. Waits for the write. */
  async store(id: string, token: string): Promise<void> {
    const at = this.now();
    if (this.cluster) this.memo.set(id, { token, at });
    await this.view.save(id, { token, tokenAt: at }, (accounts) => accounts.setToken(id, token));
  }

  /** Stops listening to the cluster's token announcements. */
  close(): void {
    this.stopChanged?.();
  }

  private fresh(at: number): boolean {
    return this.now() - at < this.refreshMs();
  }

  /** Memo → the cluster's token → the view's; none fresh: log in once across the cluster, replacing the newest one seen. */
  private async clusterToken(account: AccountRecord, cluster: ClusterTokens): Promise<string> {
    const id = account.identifier;
    const held = this.memo.get(id);
    if (held && this.fresh(held.at)) return held.token;
    const shared = await cluster.get(id);
    if (shared && this.fresh(shared.at)) {
      this.memo.set(id, shared);
      return shared.token;
    }
    if (account.token && account.tokenAt && this.fresh(account.tokenAt)) {
      this.memo.set(id, { token: account.token, at: account.tokenAt });
      return account.token;
    }
    return this.loginOnce(id, shared?.token);
  }

  private put(id: string, token: string | null): void {
    void this.view.update(id, { token: token ?? undefined, tokenAt: token ? this.now() : undefined }, (accounts) => accounts.setToken(id, token), token ? "store token" : "drop token");
  }

  private account(id: string): AccountRecord {
    const a = this.view.get(id);
    if (!a) throw new LoginError(`account ${id} no longer exists`, id, false);
    return a;
  }

  /**
   * One login per account at a time here; with a cluster, one across the cluster (`stale`: the token it replaces —
   * a token the cluster holds other than that one is taken instead of logging in).
   */
  private loginOnce(id: string, stale?: string, invalidate = false): Promise<string> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const cluster = this.cluster;
    const p = (async () => {
      if (!cluster) return this.logIn(id, invalidate);
      const token = await cluster.loginOnce(id, () => this.logIn(id, invalidate), { stale });
      this.memo.set(id, { token, at: this.now() });
      return token;
    })().finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  /** The login itself; the new token goes to the view and the store. */
  private async logIn(id: string, invalidate: boolean): Promise<string> {
    if (invalidate) this.put(id, null);
    const account = this.account(id);
    if (!account.password) throw new LoginError(`account ${id} has no password stored, so it cannot log in`, id, true);
    this.loginCount++;
    const token = await this.login(account);
    this.put(id, token);
    return token;
  }
}
