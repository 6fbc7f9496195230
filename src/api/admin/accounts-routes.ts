/** Accounts: paged list, add, update, delete, enable/disable, proxy binding, bulk import — HTTP over the accounts service. */
import { Elysia, t } from "elysia";
import type { AccountsAdmin } from "../../admin/accounts-service.ts";
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AccountLiveView, RequestActor } from "./admin-deps.ts";
import { accountView } from "./account-view.ts";
import { MAX_DEVICE_ID_LENGTH } from "../../store/device-id.ts";
import { intParam } from "./query-params.ts";

const Text = (max: number) => t.String({ maxLength: max });

const ListQuery = t.Object({
  page: t.Optional(Text(20)),
  page_size: t.Optional(Text(20)),
  q: t.Optional(Text(200)),
});

const AddBody = t.Object(
  {
    email: t.Optional(Text(320)),
    mobile: t.Optional(Text(40)),
    password: t.String({ minLength: 1, maxLength: 1024 }),
    name: t.Optional(Text(200)),
    remark: t.Optional(Text(2000)),
    proxy_id: t.Optional(Text(200)),
    device_id: t.Optional(Text(MAX_DEVICE_ID_LENGTH)),
  },
  { additionalProperties: false },
);

const UpdateBody = t.Object(
  {
    name: t.Optional(t.Nullable(Text(200))),
    remark: t.Optional(t.Nullable(Text(2000))),
    password: t.Optional(t.String({ minLength: 1, maxLength: 1024 })),
    proxy_id: t.Optional(t.Nullable(Text(200))),
    /** A device id captured from a real login; "" or null gives the account a fresh random one. */
    device_id: t.Optional(t.Nullable(Text(MAX_DEVICE_ID_LENGTH))),
  },
  { additionalProperties: false },
);

/** The stored proxies (through the proxies service). */
export function storedProxies(d: Pick<AdminServices, "proxies">): Promise<ConfigProxy[]> {
  return d.proxies.list();
}

/** What the account routes need: the accounts service, who is asking, and the live state of each row. */
export type AccountsRouteDeps = Pick<AdminServices, "accounts"> & RequestActor & AccountLiveView;

export function accountsRoutes(d: AccountsRouteDeps) {
  const accounts: AccountsAdmin = d.accounts;
  const setEnabled = async (request: Request, raw: string, enabled: boolean) => {
    await accounts.setEnabled(d.whoIs(request), raw, enabled);
    return { success: true, enabled };
  };
  return (app: Elysia<"/admin">) =>
    app
      .get(
        "/accounts",
        async ({ query }) => {
          const page = intParam(query.page, "page", 1, 1_000_000, 1);
          const pageSize = intParam(query.page_size, "page_size", 1, 100, 10);
          const { items, total } = await accounts.page({ q: query.q?.trim() || undefined, offset: (page - 1) * pageSize, limit: pageSize });
          const now = Date.now();
          return { items: items.map((a) => accountView(d, a, now)), total, page, page_size: pageSize, total_pages: Math.max(1, Math.ceil(total / pageSize)) };
        },
        { query: ListQuery },
      )
      .post(
        "/accounts",
        async ({ body, request }) => {
          const { total } = await accounts.add(d.whoIs(request), body);
          return { success: true, total_accounts: total };
        },
        { body: AddBody },
      )
      .post(
        "/accounts/bulk",
        async ({ body, request }) => {
          const { imported, updated, errors } = await accounts.bulkImport(d.whoIs(request), body.text);
          return { success: imported + updated > 0 || errors.length === 0, imported, updated, errors };
        },
        { body: t.Object({ text: t.String({ minLength: 1, maxLength: 5_000_000 }) }) },
      )
      .put(
        "/accounts/:identifier",
        async ({ params, body, request }) => {
          const { total } = await accounts.update(d.whoIs(request), params.identifier, body);
          return { success: true, total_accounts: total };
        },
        { body: UpdateBody },
      )
      .delete("/accounts/:identifier", async ({ params, request }) => {
        const { identifier, total } = await accounts.remove(d.whoIs(request), params.identifier);
        d.testStatus.delete(identifier);
        return { success: true, total_accounts: total };
      })
      .post("/accounts/:identifier/enable", ({ params, request }) => setEnabled(request, params.identifier, true))
      .post("/accounts/:identifier/disable", ({ params, request }) => setEnabled(request, params.identifier, false))
      .put(
        "/accounts/:identifier/proxy",
        async ({ params, body, request }) => {
          const proxyId = await accounts.setProxy(d.whoIs(request), params.identifier, body.proxy_id);
          return { success: true, proxy_id: proxyId ?? "" };
        },
        { body: t.Object({ proxy_id: t.Nullable(Text(200)) }) },
      );
}
