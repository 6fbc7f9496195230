/** Accounts: paged list, add, update, delete, enable/disable, proxy binding, bulk import. Every change reloads the pool. */
import { Elysia, t } from "elysia";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import type { ConfigProxy } from "../../config/ds2api-config.ts";
import { canonicalMobile } from "../../config/mobile.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { accountView, findAccount, requireAccount } from "./account-view.ts";
import { parseBulkAccounts } from "./bulk-accounts.ts";
import { deviceIdProblem, maskDeviceId, MAX_DEVICE_ID_LENGTH } from "../../store/device-id.ts";
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

/** The device id of an add / update body: undefined = keep (or generate), null = a fresh random one; 400 when unusable. */
function deviceIdOf(raw: string | null | undefined): string | null | undefined {
  const v = blankToNull(raw);
  if (!v) return v;
  const problem = deviceIdProblem(v);
  if (problem) throw badRequest(`device_id ${problem}`);
  return v;
}

export function storedProxies(d: AdminDeps): ConfigProxy[] {
  return d.ctx.store.settings.get<ConfigProxy[]>(SETTING_KEYS.proxies) ?? [];
}

function checkProxy(d: AdminDeps, proxyId: string | null | undefined): void {
  if (proxyId && !storedProxies(d).some((p) => p.id === proxyId)) throw badRequest(`unknown proxy_id ${JSON.stringify(proxyId)}; add the proxy first`);
}

const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === "" ? null : v.trim());

export function accountsRoutes(d: AdminDeps) {
  const { store, providers } = d.ctx;
  return (app: Elysia<"/admin">) =>
    app
      .get(
        "/accounts",
        ({ query }) => {
          const page = intParam(query.page, "page", 1, 1_000_000, 1);
          const pageSize = intParam(query.page_size, "page_size", 1, 100, 10);
          const { items, total } = store.accounts.page({ q: query.q?.trim() || undefined, offset: (page - 1) * pageSize, limit: pageSize });
          const now = Date.now();
          return { items: items.map((a) => accountView(d, a, now)), total, page, page_size: pageSize, total_pages: Math.max(1, Math.ceil(total / pageSize)) };
        },
        { query: ListQuery },
      )
      .post(
        "/accounts",
        ({ body, request }) => {
          const email = body.email?.trim().toLowerCase() || undefined;
          const mobile = body.mobile?.trim() ? canonicalMobile(body.mobile) || undefined : undefined;
          if (body.mobile?.trim() && !mobile) throw badRequest("mobile must contain digits");
          if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) throw badRequest(`${JSON.stringify(email)} is not an email address`);
          const identifier = email ?? mobile;
          if (!identifier) throw badRequest("email or mobile is required");
          if (findAccount(d, identifier) || (mobile && email && findAccount(d, mobile))) throw new HttpError(409, `account ${identifier} already exists`);
          checkProxy(d, body.proxy_id);
          const deviceId = deviceIdOf(body.device_id) ?? undefined;
          store.accounts.upsert({
            identifier,
            email,
            mobile,
            password: body.password.trim(),
            name: body.name?.trim() || undefined,
            remark: body.remark?.trim() || undefined,
            proxyId: body.proxy_id?.trim() || undefined,
            deviceId,
          });
          providers.reload();
          audit(d, request, "accounts.add", identifier, { name: body.name, proxy_id: body.proxy_id });
          return { success: true, total_accounts: store.accounts.count() };
        },
        { body: AddBody },
      )
      .post(
        "/accounts/bulk",
        ({ body, request }) => {
          const { accounts, errors } = parseBulkAccounts(body.text, storedProxies(d));
          let imported = 0;
          let updated = 0;
          store.transaction(() => {
            for (const a of accounts) {
              const isNew = store.accounts.upsert({ identifier: a.identifier, email: a.email, mobile: a.mobile, password: a.password, name: a.name, remark: a.remark, proxyId: a.proxy_id, deviceId: a.device_id, extra: a.extra });
              if (isNew) imported++;
              else updated++;
            }
          });
          if (imported + updated > 0) providers.reload();
          audit(d, request, "accounts.bulk_import", undefined, { imported, updated, errors: errors.length, identifiers: accounts.map((a) => a.identifier).slice(0, 50) });
          return { success: imported + updated > 0 || errors.length === 0, imported, updated, errors };
        },
        { body: t.Object({ text: t.String({ minLength: 1, maxLength: 5_000_000 }) }) },
      )
      .put(
        "/accounts/:identifier",
        ({ params, body, request }) => {
          const a = requireAccount(d, params.identifier);
          const proxyId = blankToNull(body.proxy_id);
          checkProxy(d, proxyId);
          const deviceId = deviceIdOf(body.device_id);
          store.transaction(() => {
            store.accounts.updateProfile(a.identifier, { name: blankToNull(body.name), remark: blankToNull(body.remark), proxyId });
            if (body.password !== undefined) store.accounts.upsert({ identifier: a.identifier, password: body.password.trim() });
            // A new device id ends a risk_device state (the operator's fix) and drops the old device's token.
            if (deviceId !== undefined) store.accounts.setDeviceId(a.identifier, deviceId);
          });
          providers.reload();
          audit(d, request, "accounts.update", a.identifier, {
            fields: Object.keys(body),
            ...(body.password !== undefined ? { password_changed: true } : {}),
            ...(deviceId !== undefined ? { device_id: deviceId === null ? "regenerated" : maskDeviceId(deviceId) } : {}),
          });
          return { success: true, total_accounts: store.accounts.count() };
        },
        { body: UpdateBody },
      )
      .delete("/accounts/:identifier", ({ params, request }) => {
        const a = requireAccount(d, params.identifier);
        store.accounts.delete(a.identifier);
        d.testStatus.delete(a.identifier);
        providers.reload();
        audit(d, request, "accounts.delete", a.identifier);
        return { success: true, total_accounts: store.accounts.count() };
      })
      .post("/accounts/:identifier/enable", ({ params, request }) => setEnabled(d, request, params.identifier, true))
      .post("/accounts/:identifier/disable", ({ params, request }) => setEnabled(d, request, params.identifier, false))
      .put(
        "/accounts/:identifier/proxy",
        ({ params, body, request }) => {
          const a = requireAccount(d, params.identifier);
          const proxyId = blankToNull(body.proxy_id);
          checkProxy(d, proxyId);
          store.accounts.updateProfile(a.identifier, { proxyId });
          providers.reload();
          audit(d, request, "accounts.proxy", a.identifier, { proxy_id: proxyId });
          return { success: true, proxy_id: proxyId ?? "" };
        },
        { body: t.Object({ proxy_id: t.Nullable(Text(200)) }) },
      );
}

function setEnabled(d: AdminDeps, request: Request, raw: string, enabled: boolean) {
  const a = requireAccount(d, raw);
  d.ctx.store.accounts.setEnabled(a.identifier, enabled);
  d.ctx.providers.reload();
  audit(d, request, enabled ? "accounts.enable" : "accounts.disable", a.identifier);
  return { success: true, enabled };
}
