/**
 * Proxies (api-surface §12.5, plus http/https types): list, add, update, delete (unbinding its accounts) and a
 * connectivity test against the configured DeepSeek base URL. Passwords are write-only: views carry
 * `has_password`, and an empty password on update keeps the stored one. Changes reload the account pool.
 */
import { Elysia, t } from "elysia";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import { parseProxyEntry, type ConfigProxy } from "../../config/ds2api-config.ts";
import { probeProxy } from "../../upstream/proxy/proxy-probe.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { storedProxies } from "./accounts-routes.ts";
import { proxyAdmin } from "./provider-admin.ts";

const Str = (max: number) => t.Optional(t.Nullable(t.String({ maxLength: max })));

const proxyFields = {
  id: Str(200),
  name: Str(200),
  type: Str(20),
  host: Str(255),
  port: t.Optional(t.Nullable(t.Union([t.Number(), t.String({ maxLength: 10 })]))),
  username: Str(255),
  password: Str(255),
};

const ProxyBody = t.Object(proxyFields, { additionalProperties: false });

/** A stored proxy by id, or the same fields inline. */
const TestBody = t.Object({ proxy_id: Str(200), ...proxyFields }, { additionalProperties: false });

type ProxyInput = typeof ProxyBody.static;

export function proxyView(p: ConfigProxy) {
  return { id: p.id, name: p.name, type: p.type, host: p.host, port: p.port, username: p.username ?? "", has_password: Boolean(p.password) };
}

/** Validate a body into a proxy, 400 listing the problems. */
function parseOr400(input: Record<string, unknown>): ConfigProxy {
  const problems: string[] = [];
  const proxy = parseProxyEntry(input, "proxy", problems);
  if (!proxy || problems.length) throw badRequest(problems.join("; ") || "invalid proxy");
  return proxy;
}

/** Body fields that were sent (null and absent both mean "not given"). */
function given(body: ProxyInput): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== null));
}

export function proxiesRoutes(d: AdminDeps) {
  const { store, providers } = d.ctx;
  const save = (list: ConfigProxy[]) => store.settings.set(SETTING_KEYS.proxies, list);
  const requireProxy = (id: string) => {
    const p = storedProxies(d).find((x) => x.id === id);
    if (!p) throw notFound(`proxy ${JSON.stringify(id)} not found`);
    return p;
  };
  return (app: Elysia<"/admin">) =>
    app
      .get("/proxies", () => {
        const items = storedProxies(d).map(proxyView);
        return { items, total: items.length };
      })
      .post(
        "/proxies",
        ({ body, request }) => {
          const proxy = parseOr400(given(body));
          const list = storedProxies(d);
          if (list.some((p) => p.id === proxy.id)) throw new HttpError(409, `proxy ${JSON.stringify(proxy.id)} already exists`);
          save([...list, proxy]);
          providers.reload();
          audit(d, request, "proxies.add", proxy.id, { type: proxy.type, host: proxy.host, port: proxy.port, username: proxy.username, has_password: Boolean(proxy.password) });
          return { success: true, proxy: proxyView(proxy) };
        },
        { body: ProxyBody },
      )
      .put(
        "/proxies/:id",
        ({ params, body, request }) => {
          const old = requireProxy(params.id);
          const fields = given(body);
          if (fields.id !== undefined && fields.id !== old.id) throw badRequest("a proxy's id cannot change; add a new proxy and rebind the accounts instead");
          // Fields left out keep their stored values; an empty password keeps the stored password.
          const merged: Record<string, unknown> = { ...old, ...fields, id: old.id };
          if (!fields.password) merged.password = old.password;
          if (fields.name === undefined && old.name === `${old.host}:${old.port}`) delete merged.name; // the default name follows host:port
          const proxy = parseOr400(merged);
          save(storedProxies(d).map((p) => (p.id === old.id ? proxy : p)));
          providers.reload();
          audit(d, request, "proxies.update", proxy.id, { fields: Object.keys(fields), ...(fields.password ? { password_changed: true } : {}) });
          return { success: true, proxy: proxyView(proxy) };
        },
        { body: ProxyBody },
      )
      .delete("/proxies/:id", ({ params, request }) => {
        const old = requireProxy(params.id);
        const remaining = storedProxies(d).filter((p) => p.id !== old.id);
        const bound = store.accounts.list().filter((a) => a.proxyId === old.id);
        store.transaction(() => {
          for (const a of bound) store.accounts.updateProfile(a.identifier, { proxyId: null });
          save(remaining);
        });
        proxyAdmin(d.ctx)?.retain(new Set(remaining.map((p) => p.id)));
        providers.reload();
        audit(d, request, "proxies.delete", old.id, { unbound_accounts: bound.map((a) => a.identifier).slice(0, 50) });
        return { success: true, unbound_accounts: bound.length };
      })
      .post(
        "/proxies/test",
        async ({ body, request }) => {
          const id = body.proxy_id?.trim();
          let proxy: ConfigProxy;
          if (id) proxy = requireProxy(id);
          else {
            const fields = given(body as ProxyInput);
            delete fields.proxy_id;
            proxy = parseOr400(fields);
            // Testing an edited proxy from the console: a blank password means the stored one.
            if (!proxy.password) proxy.password = storedProxies(d).find((p) => p.id === proxy.id)?.password;
          }
          const r = await probeProxy(proxy, d.ctx.options.deepseekBaseUrl);
          audit(d, request, "proxies.test", proxy.id, { success: r.success });
          return { success: r.success, proxy_id: proxy.id, proxy_type: proxy.type, response_time: r.response_time, ...(r.status_code !== undefined ? { status_code: r.status_code } : {}), message: r.message };
        },
        { body: TestBody },
      );
}
