/**
 * Admin writes to the proxies (stored as one settings value): add, update, delete (unbinding its accounts). Each
 * validates, writes and audits in one transaction, then publishes `proxies.changed` (and `accounts.changed` for
 * accounts a delete unbound). Passwords are write-only: an update without one keeps the stored one.
 */
import type { ChangeEvent, ChangePublisher } from "../core/changes/change-bus.ts";
import { parseProxyEntry, type ConfigProxy } from "../config/ds2api-config.ts";
import { SETTING_KEYS } from "../store/setting-keys.ts";
import type { Store } from "../store/store.ts";
import { conflict, invalid, missing } from "./admin-error.ts";
import { writeAudit, type AdminActor } from "./audit-entry.ts";
import { storedProxies } from "./stored-proxies.ts";

/** Fields as posted (absent and null both mean "not given"). */
export type ProxyFields = Record<string, unknown>;

export interface ProxiesAdmin {
  list(): ConfigProxy[];
  get(id: string): ConfigProxy | undefined;
  /** Validate posted fields into a proxy (400 listing the problems). */
  parse(fields: ProxyFields): ConfigProxy;
  add(who: AdminActor, fields: ProxyFields): ConfigProxy;
  update(who: AdminActor, id: string, fields: ProxyFields): ConfigProxy;
  remove(who: AdminActor, id: string): { unbound: number };
}

function parse(input: ProxyFields): ConfigProxy {
  const problems: string[] = [];
  const proxy = parseProxyEntry(input, "proxy", problems);
  if (!proxy || problems.length) throw invalid(problems.join("; ") || "invalid proxy");
  return proxy;
}

const given = (fields: ProxyFields): ProxyFields => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));

export function proxiesAdmin(store: Store, changes: ChangePublisher): ProxiesAdmin {
  const save = (list: ConfigProxy[]) => store.settings.set(SETTING_KEYS.proxies, list);
  const require = (id: string) => {
    const p = storedProxies(store).find((x) => x.id === id);
    if (!p) throw missing(`proxy ${JSON.stringify(id)} not found`);
    return p;
  };
  return {
    list: () => storedProxies(store),
    get: (id) => storedProxies(store).find((p) => p.id === id),
    parse: (fields) => parse(given(fields)),

    add(who, fields) {
      const proxy = parse(given(fields));
      store.transaction(() => {
        const list = storedProxies(store);
        if (list.some((p) => p.id === proxy.id)) throw conflict(`proxy ${JSON.stringify(proxy.id)} already exists`);
        save([...list, proxy]);
        writeAudit(store, who, "proxies.add", proxy.id, { type: proxy.type, host: proxy.host, port: proxy.port, username: proxy.username, has_password: Boolean(proxy.password) });
      });
      changes.publish({ topic: "proxies.changed", ids: [proxy.id] });
      return proxy;
    },

    update(who, id, raw) {
      const fields = given(raw);
      const proxy = store.transaction(() => {
        const old = require(id);
        if (fields.id !== undefined && fields.id !== old.id) throw invalid("a proxy's id cannot change; add a new proxy and rebind the accounts instead");
        // Fields left out keep their stored values; an empty password keeps the stored password.
        const merged: Record<string, unknown> = { ...old, ...fields, id: old.id };
        if (!fields.password) merged.password = old.password;
        if (fields.name === undefined && old.name === `${old.host}:${old.port}`) delete merged.name; // the default name follows host:port
        const next = parse(merged);
        save(storedProxies(store).map((p) => (p.id === old.id ? next : p)));
        writeAudit(store, who, "proxies.update", next.id, { fields: Object.keys(fields), ...(fields.password ? { password_changed: true } : {}) });
        return next;
      });
      changes.publish({ topic: "proxies.changed", ids: [proxy.id] });
      return proxy;
    },

    remove(who, id) {
      const bound = store.transaction(() => {
        const old = require(id);
        const bound = store.accounts.boundTo(old.id);
        store.accounts.unbindProxy(old.id);
        save(storedProxies(store).filter((p) => p.id !== old.id));
        writeAudit(store, who, "proxies.delete", old.id, { unbound_accounts: bound.slice(0, 50) });
        return bound;
      });
      const events: ChangeEvent[] = [{ topic: "proxies.changed", ids: [id], removed: [id] }];
      if (bound.length) events.push({ topic: "accounts.changed", ids: bound });
      changes.publish(...events);
      return { unbound: bound.length };
    },
  };
}
