/**
 * Admin writes to the proxies (stored as one settings value): add, update, delete (unbinding its accounts). Each
 * validates, writes and audits in one transaction, then publishes `proxies.changed` (and `accounts.changed` for
 * accounts a delete unbound). Passwords are write-only: an update without one keeps the stored one.
 */
import type { ChangeEvent, ChangePublisher } from "../core/changes/change-bus.ts";
import { parseProxyEntry, type ConfigProxy } from "../config/ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { StoreApi, StoreRepos } from "../store/store-api.ts";
import { conflict, invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { readStoredProxies } from "./stored-proxies.ts";

/** Fields as posted (absent and null both mean "not given"). */
export type ProxyFields = Record<string, unknown>;

export interface ProxiesAdmin {
  list(): Promise<ConfigProxy[]>;
  get(id: string): Promise<ConfigProxy | undefined>;
  /** Validate posted fields into a proxy (400 listing the problems). */
  parse(fields: ProxyFields): ConfigProxy;
  add(who: AdminActor, fields: ProxyFields): Promise<ConfigProxy>;
  update(who: AdminActor, id: string, fields: ProxyFields): Promise<ConfigProxy>;
  remove(who: AdminActor, id: string): Promise<{ unbound: number }>;
}

function parse(input: ProxyFields): ConfigProxy {
  const problems: string[] = [];
  const proxy = parseProxyEntry(input, "proxy", problems);
  if (!proxy || problems.length) throw invalid(problems.join("; ") || "invalid proxy");
  return proxy;
}

const given = (fields: ProxyFields): ProxyFields => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));

const save = (tx: Pick<StoreRepos, "settings">, list: ConfigProxy[]) => tx.settings.set(SETTING_KEYS.proxies, list);

async function requireIn(tx: Pick<StoreRepos, "settings">, id: string): Promise<ConfigProxy> {
  const p = (await readStoredProxies(tx)).find((x) => x.id === id);
  if (!p) throw missing(`proxy ${JSON.stringify(id)} not found`);
  return p;
}

export function proxiesAdmin(store: StoreApi, changes: ChangePublisher): ProxiesAdmin {
  /** Tell the views, and answer only once they serve the change. */
  const publish = async (...events: ChangeEvent[]) => {
    changes.publish(...events);
    await changes.settled();
  };
  return {
    list: () => readStoredProxies(store),
    get: async (id) => (await readStoredProxies(store)).find((p) => p.id === id),
    parse: (fields) => parse(given(fields)),

    async add(who, fields) {
      const proxy = parse(given(fields));
      await store.transaction(async (tx) => {
        const list = await readStoredProxies(tx);
        if (list.some((p) => p.id === proxy.id)) throw conflict(`proxy ${JSON.stringify(proxy.id)} already exists`);
        await save(tx, [...list, proxy]);
        await writeAudit(tx, who, "proxies.add", proxy.id, { type: proxy.type, host: proxy.host, port: proxy.port, username: proxy.username, has_password: Boolean(proxy.password) });
      });
      await publish({ topic: "proxies.changed", ids: [proxy.id] });
      return proxy;
    },

    async update(who, id, raw) {
      const fields = given(raw);
      const proxy = await store.transaction(async (tx) => {
        const list = await readStoredProxies(tx);
        const old = list.find((x) => x.id === id);
        if (!old) throw missing(`proxy ${JSON.stringify(id)} not found`);
        if (fields.id !== undefined && fields.id !== old.id) throw invalid("a proxy's id cannot change; add a new proxy and rebind the accounts instead");
        // Fields left out keep their stored values; an empty password keeps the stored password.
        const merged: Record<string, unknown> = { ...old, ...fields, id: old.id };
        if (!fields.password) merged.password = old.password;
        if (fields.name === undefined && old.name === `${old.host}:${old.port}`) delete merged.name; // the default name follows host:port
        const next = parse(merged);
        await save(tx, list.map((p) => (p.id === old.id ? next : p)));
        await writeAudit(tx, who, "proxies.update", next.id, { fields: Object.keys(fields), ...(fields.password ? { password_changed: true } : {}) });
        return next;
      });
      await publish({ topic: "proxies.changed", ids: [proxy.id] });
      return proxy;
    },

    async remove(who, id) {
      const bound = await store.transaction(async (tx) => {
        const old = await requireIn(tx, id);
        const bound = await tx.accounts.boundTo(old.id);
        await tx.accounts.unbindProxy(old.id);
        await save(tx, (await readStoredProxies(tx)).filter((p) => p.id !== old.id));
        await writeAudit(tx, who, "proxies.delete", old.id, { unbound_accounts: bound.slice(0, 50) });
        return bound;
      });
      const events: ChangeEvent[] = [{ topic: "proxies.changed", ids: [id], removed: [id] }];
      if (bound.length) events.push({ topic: "accounts.changed", ids: bound });
      await publish(...events);
      return { unbound: bound.length };
    },
  };
}
