/**
 * Proxies (api-surface §12.5, plus http/https types): list, add, update, delete (unbinding its accounts) and a
 * connectivity test against the configured DeepSeek base URL — HTTP over the proxies service. Passwords are
 * write-only: views carry `has_password`, and an empty password on update keeps the stored one.
 */
import { Elysia, t } from "elysia";
import type { ProxiesAdmin } from "../../admin/proxies-service.ts";
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { probeProxy } from "../../upstream/proxy/proxy-probe.ts";
import { notFound } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { ServerOptions } from "../../config/options.ts";
import { audit, type RequestActor } from "./admin-deps.ts";

/** What the proxy routes need: the proxies service, the audit log (tests), who is asking, and the upstream to probe. */
export type ProxiesRouteDeps = Pick<AdminServices, "proxies" | "audit"> & RequestActor & { ctx: { options: Pick<ServerOptions, "deepseekBaseUrl"> } };

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

/** Body fields that were sent (null and absent both mean "not given"). */
function given(body: ProxyInput): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== null));
}

export function proxiesRoutes(d: ProxiesRouteDeps) {
  const proxies: ProxiesAdmin = d.proxies;
  const requireProxy = async (id: string) => {
    const p = await proxies.get(id);
    if (!p) throw notFound(`proxy ${JSON.stringify(id)} not found`);
    return p;
  };
  return (app: Elysia<"/admin">) =>
    app
      .get("/proxies", async () => {
        const items = (await proxies.list()).map(proxyView);
        return { items, total: items.length };
      })
      .post(
        "/proxies",
        async ({ body, request }) => {
          const proxy = await proxies.add(d.whoIs(request), body);
          return { success: true, proxy: proxyView(proxy) };
        },
        { body: ProxyBody },
      )
      .put(
        "/proxies/:id",
        async ({ params, body, request }) => {
          const proxy = await proxies.update(d.whoIs(request), params.id, body);
          return { success: true, proxy: proxyView(proxy) };
        },
        { body: ProxyBody },
      )
      .delete("/proxies/:id", async ({ params, request }) => {
        const { unbound } = await proxies.remove(d.whoIs(request), params.id);
        return { success: true, unbound_accounts: unbound };
      })
      .post(
        "/proxies/test",
        async ({ body, request }) => {
          const id = body.proxy_id?.trim();
          let proxy: ConfigProxy;
          if (id) proxy = await requireProxy(id);
          else {
            const fields = given(body as ProxyInput);
            delete fields.proxy_id;
            proxy = proxies.parse(fields);
            // Testing an edited proxy from the console: a blank password means the stored one.
            if (!proxy.password) proxy.password = (await proxies.get(proxy.id))?.password;
          }
          const r = await probeProxy(proxy, d.ctx.options.deepseekBaseUrl);
          await audit(d, request, "proxies.test", proxy.id, { success: r.success });
          return { success: r.success, proxy_id: proxy.id, proxy_type: proxy.type, response_time: r.response_time, ...(r.status_code !== undefined ? { status_code: r.status_code } : {}), message: r.message };
        },
        { body: TestBody },
      );
}
