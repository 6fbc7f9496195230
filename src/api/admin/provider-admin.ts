/**
 * The provider whose accounts the admin API manages. The accounts table holds DeepSeek accounts only
 * (until the store gains a provider column), so the account, proxy and identity routes look up the
 * "deepseek" provider by id and use its capability interfaces from the core contract.
 */
import type { AppContext } from "../../context.ts";
import type { AccountAdmin, ProxyAdmin, UpstreamProvider } from "../../core/upstream/provider.ts";

export const ACCOUNTS_PROVIDER = "deepseek";

export function accountsProvider(ctx: Pick<AppContext, "providers">): UpstreamProvider {
  const p = ctx.providers.get(ACCOUNTS_PROVIDER);
  if (!p) throw new Error(`provider "${ACCOUNTS_PROVIDER}" is not registered`);
  return p;
}

/** The account-pool hooks of the accounts' provider. */
export function accountAdmin(ctx: Pick<AppContext, "providers">): AccountAdmin {
  const a = accountsProvider(ctx).accounts;
  if (!a) throw new Error(`provider "${ACCOUNTS_PROVIDER}" has no account pool`);
  return a;
}

/** The live proxy bridges of the accounts' provider (none when it routes no proxies). */
export function proxyAdmin(ctx: Pick<AppContext, "providers">): ProxyAdmin | undefined {
  return accountsProvider(ctx).proxies;
}
