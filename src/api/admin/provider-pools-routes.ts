/**
 * Every registered upstream provider and the key-style credential pool of each one that has it (Volcengine web
 * ids, OnDemand API keys, …), through the provider-neutral `CredentialPoolAdmin` capability: one set of routes
 * serves every pool, so a provider only implements the interface. DeepSeek's pool is its stored accounts
 * (managed under /admin/accounts); it is listed here with its account-pool status.
 *
 * Secrets: the capability's views never hold them, previews are re-masked like DeepSeek token previews, and
 * every text a provider hands back (skip reasons, test messages, last errors) is scrubbed of the secrets the
 * request carried before it is answered or audited.
 */
import { Elysia, t } from "elysia";
import type {
  AccountPoolStatus,
  CredentialEntryInput,
  CredentialImportResult,
  CredentialPoolAdmin,
  CredentialPoolStatus,
  CredentialView,
  UpstreamProvider,
} from "../../core/upstream/provider.ts";
import { maskSecret } from "../../observability/logger.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AppContext } from "../../context.ts";
import { audit, type RequestActor } from "./admin-deps.ts";

/** What the provider-pool routes need: the credentials service, the audit log (tests), who is asking, the providers and stored secrets (to mask them). */
export type ProviderPoolsRouteDeps = Pick<AdminServices, "credentials" | "audit"> & RequestActor & { ctx: Pick<AppContext, "providers" | "syncStore"> };

const MAX_ENTRIES = 10_000;
const Label = t.String({ maxLength: 200 });
const MaxUsage = t.Integer({ minimum: 0, maximum: 1_000_000_000 });

const Entry = t.Object(
  {
    secret: t.String({ maxLength: 4096 }),
    auth: t.Optional(t.String({ maxLength: 8192 })),
    label: t.Optional(Label),
    max_usage: t.Optional(MaxUsage),
  },
  { additionalProperties: false },
);

/** One entry (`{secret, …}`) or several (`{entries: [...]}`); which of the two is checked in the handler. */
const AddBody = t.Object(
  {
    entries: t.Optional(t.Array(Entry, { maxItems: MAX_ENTRIES })),
    secret: t.Optional(t.String({ maxLength: 4096 })),
    auth: t.Optional(t.String({ maxLength: 8192 })),
    label: t.Optional(Label),
    max_usage: t.Optional(MaxUsage),
  },
  { additionalProperties: false },
);

const ImportBody = t.Object({ text: t.String({ minLength: 1, maxLength: 5_000_000 }) }, { additionalProperties: false });

const UpdateBody = t.Object(
  { label: t.Optional(t.Nullable(Label)), max_usage: t.Optional(t.Nullable(MaxUsage)) },
  { additionalProperties: false },
);

const ProviderParams = t.Object({ provider: t.String({ maxLength: 64 }) });
const EntryParams = t.Object({ provider: t.String({ maxLength: 64 }), id: t.String({ maxLength: 128 }) });

// ---- masking ----------------------------------------------------------------------------------

/** A preview in DeepSeek's token-preview form (`ab****yz`, see maskSecret), from the provider's preview. */
export function displayPreview(preview: string): string {
  const m = /^(.{2}).*\*{4}.*(.{2})$/s.exec(preview);
  return m ? `${m[1]}****${m[2]}` : "****";
}

/** Replaces every given secret in a text by its masked form (secrets shorter than 4 characters are left: too generic). */
class Scrubber {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  }

  /** The candidate secrets of a bulk import text: tokens that look like ids or keys (8+ characters, a digit among them). */
  static tokensOf(text: string): string[] {
    return (text.match(/[A-Za-z0-9_\-+/=.~]{8,}/g) ?? []).filter((x) => /\d/.test(x));
  }

  text(s: string | undefined): string {
    if (!s) return "";
    let out = s;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(maskSecret(secret));
    return out;
  }
}

// ---- views ------------------------------------------------------------------------------------

function credentialView(v: CredentialView, scrub: Scrubber) {
  return {
    id: v.id,
    preview: displayPreview(v.preview),
    label: v.label ?? "",
    enabled: v.enabled,
    state: v.enabled ? v.state : "disabled",
    state_reason: scrub.text(v.stateReason),
    usage: v.usage,
    max_usage: v.maxUsage,
    inflight: v.inflight,
    cooldown_until: v.cooldownUntil ?? null,
    last_used_at: v.lastUsedAt ?? null,
    last_error: scrub.text(v.lastError),
    has_own_auth: v.hasOwnAuth === true,
  };
}

function credentialStatusView(s: CredentialPoolStatus) {
  return { total: s.total, usable: s.usable, exhausted: s.exhausted, bad: s.bad, cooling: s.cooling, disabled: s.disabled, in_use: s.inUse };
}

function accountStatusView(s: AccountPoolStatus) {
  return {
    total: s.total,
    enabled: s.enabled,
    usable: s.usableNow,
    cooling: s.coolingDown,
    failing: s.failing,
    disabled: s.disabled,
    in_use: s.inUse,
    available: s.available,
    waiting: s.waiting,
  };
}

function providerView(p: UpstreamProvider) {
  const pool = p.credentials ? "credentials" : p.accounts ? "accounts" : null;
  return {
    id: p.id,
    display_name: p.displayName,
    configured: p.configured?.() ?? true,
    models: p.models().map((m) => m.id),
    pool,
    entry_kind: p.credentials?.entryKind ?? (p.accounts ? "account" : null),
    /** Where the pool's entries are managed. */
    manage: pool === "credentials" ? `/admin/providers/${p.id}/credentials` : pool === "accounts" ? "/admin/accounts" : null,
    accounts: p.accounts ? accountStatusView(p.accounts.status()) : null,
    credentials: p.credentials ? credentialStatusView(p.credentials.status()) : null,
    /** The TLS profile of its upstream calls (null: Bun's plain fetch, no transport setting). */
    tls: p.transport?.() ?? null,
  };
}

function importView(r: CredentialImportResult, scrub: Scrubber) {
  return {
    added: r.added,
    updated: r.updated,
    skipped: r.skipped.map((s) => ({ entry: scrub.text(s.entry), reason: scrub.text(s.reason) })),
  };
}

// ---- lookups ----------------------------------------------------------------------------------

interface Pool {
  provider: UpstreamProvider;
  pool: CredentialPoolAdmin;
}

function poolProviders(d: ProviderPoolsRouteDeps): string[] {
  return d.ctx.providers.list().flatMap((p) => (p.credentials ? [p.id] : []));
}

function requireProvider(d: ProviderPoolsRouteDeps, id: string): UpstreamProvider {
  const p = d.ctx.providers.get(id);
  if (!p) throw notFound(`provider ${JSON.stringify(id.slice(0, 64))} is not registered; providers: ${d.ctx.providers.list().map((x) => x.id).join(", ")}`);
  return p;
}

function requirePool(d: ProviderPoolsRouteDeps, id: string): Pool {
  const provider = requireProvider(d, id);
  if (provider.credentials) return { provider, pool: provider.credentials };
  const withPools = poolProviders(d);
  const where = provider.accounts ? " (its accounts are managed under /admin/accounts)" : "";
  throw notFound(`provider "${provider.id}" has no credential pool${where}; providers with credential pools: ${withPools.length ? withPools.join(", ") : "none"}`);
}

async function requireEntry(p: Pool, id: string): Promise<CredentialView> {
  const v = (await p.pool.list()).find((x) => x.id === id);
  // The id is not echoed: a caller who pasted a secret where the id goes must not get it back.
  if (!v) throw notFound(`no ${p.pool.entryKind} with this id in the "${p.provider.id}" pool; GET /admin/providers/${p.provider.id}/credentials lists the ids`);
  return v;
}

/** A scrubber for the pool's stored secrets and per-entry authorizations, plus `more`. */
function poolScrubber(d: ProviderPoolsRouteDeps, p: Pool, more: Iterable<string> = []): Scrubber {
  return new Scrubber([...d.ctx.syncStore.credentials.list(p.provider.id).flatMap((r) => [r.secret, r.auth ?? ""]), ...more]);
}

// ---- input ------------------------------------------------------------------------------------

type EntryBody = { secret: string; auth?: string; label?: string; max_usage?: number };

function entryInput(e: EntryBody, where: string): CredentialEntryInput {
  const secret = e.secret.trim();
  if (!secret) throw badRequest(`${where}secret must not be empty`);
  if (/\s/.test(secret)) throw badRequest(`${where}secret must not contain whitespace`);
  if (secret.includes("****")) throw badRequest(`${where}secret looks like a masked preview; give the full value`);
  const auth = e.auth?.trim() || undefined;
  const label = e.label?.trim() || undefined;
  return { secret, ...(auth ? { auth } : {}), ...(label ? { label } : {}), ...(e.max_usage !== undefined ? { maxUsage: e.max_usage } : {}) };
}

function parseAdd(body: { entries?: EntryBody[]; secret?: string; auth?: string; label?: string; max_usage?: number }): { entries: CredentialEntryInput[]; single: boolean } {
  if (body.entries !== undefined) {
    if (body.secret !== undefined || body.auth !== undefined || body.label !== undefined || body.max_usage !== undefined) {
      throw badRequest("give either entries:[…] or one entry's secret (with auth, label, max_usage), not both");
    }
    if (body.entries.length === 0) throw badRequest("entries must not be empty");
    return { entries: body.entries.map((e, i) => entryInput(e, `entries[${i}].`)), single: false };
  }
  if (body.secret === undefined) throw badRequest("secret is required (or entries:[{secret, …}] for several)");
  return { entries: [entryInput({ ...body, secret: body.secret }, "")], single: true };
}

// ---- routes -----------------------------------------------------------------------------------

export function providerPoolsRoutes(d: ProviderPoolsRouteDeps) {
  const { providers, syncStore: store } = d.ctx;
  const credentials = d.credentials;
  /**
   * Masks the pool's stored secrets (and `more`, e.g. what the request posted) in whatever a provider says:
   * views never hold secrets by contract, but error texts come from upstreams and may quote what was sent.
   */
  const scrubberFor = (p: Pool, more: Iterable<string> = []) => poolScrubber(d, p, more);
  const listAnswer = async (p: Pool, scrub: Scrubber = scrubberFor(p)) => {
    const items = (await p.pool.list()).map((v) => credentialView(v, scrub));
    return { provider: p.provider.id, entry_kind: p.pool.entryKind, items, total: items.length, status: credentialStatusView(p.pool.status()) };
  };
  const entryAnswer = async (p: Pool, id: string, scrub: Scrubber = scrubberFor(p)) => {
    const v = (await p.pool.list()).find((x) => x.id === id);
    return v ? credentialView(v, scrub) : null;
  };
  const target = (p: Pool, id?: string) => (id ? `${p.provider.id}/${id}` : p.provider.id);
  return (app: Elysia<"/admin">) =>
    app
      .get("/providers", () => {
        const items = providers.list().map(providerView);
        return { items, total: items.length };
      })
      .get("/providers/:provider", ({ params }) => providerView(requireProvider(d, params.provider)), { params: ProviderParams })
      .get("/providers/:provider/credentials", async ({ params }) => listAnswer(requirePool(d, params.provider)), { params: ProviderParams })
      .post(
        "/providers/:provider/credentials",
        async ({ params, body, request }) => {
          const p = requirePool(d, params.provider);
          const { entries, single } = parseAdd(body);
          const posted = entries.flatMap((e) => [e.secret, e.auth ?? ""]);
          if (single) {
            // Same secret = same entry (the store's keyed-hash id): adding one that is there already is a conflict.
            const id = store.credentials.idFor(p.provider.id, entries[0]!.secret);
            if ((await p.pool.list()).some((v) => v.id === id)) throw new HttpError(409, `this ${p.pool.entryKind} is already in the "${p.provider.id}" pool (id ${id})`);
          }
          const ids = entries.map((e) => store.credentials.idFor(p.provider.id, e.secret));
          const result = await credentials.write(d.whoIs(request), {
            action: "providers.credentials.add",
            target: target(p),
            apply: () => p.pool.add(entries),
            detail: (r) => ({ added: r.added, updated: r.updated, skipped: r.skipped.length, ids: ids.slice(0, 50) }),
            ids: () => ids.map((id) => target(p, id)),
          });
          const scrub = scrubberFor(p, posted);
          const view = importView(result, scrub);
          if (single && result.added + result.updated === 0) {
            throw badRequest(`the ${p.pool.entryKind} was not added: ${view.skipped[0]?.reason || "refused by the provider"}`);
          }
          return { success: result.added + result.updated > 0, ...view, ...(await listAnswer(p, scrub)) };
        },
        { params: ProviderParams, body: AddBody },
      )
      .post(
        "/providers/:provider/credentials/import",
        async ({ params, body, request }) => {
          const p = requirePool(d, params.provider);
          const posted = Scrubber.tokensOf(body.text);
          let result: CredentialImportResult;
          try {
            result = await credentials.write(d.whoIs(request), {
              action: "providers.credentials.import",
              target: target(p),
              apply: () => p.pool.importText(body.text),
              detail: (r) => ({ added: r.added, updated: r.updated, skipped: r.skipped.length }),
            });
          } catch (e) {
            const scrub = scrubberFor(p, posted);
            // A provider that refuses the whole document says why; the message must not carry the text back.
            throw badRequest(`import refused: ${scrub.text(e instanceof Error ? e.message : String(e)).slice(0, 500)}`);
          }
          const scrub = scrubberFor(p, posted);
          const view = importView(result, scrub);
          return { success: result.added + result.updated > 0 || result.skipped.length === 0, ...view, ...(await listAnswer(p, scrub)) };
        },
        { params: ProviderParams, body: ImportBody },
      )
      .post(
        "/providers/:provider/credentials/reset",
        async ({ params, request }) => {
          const p = requirePool(d, params.provider);
          const reset = await credentials.write(d.whoIs(request), { action: "providers.credentials.reset_all", target: target(p), apply: () => p.pool.resetUsage(), detail: (reset) => ({ reset }) });
          return { success: true, reset, ...(await listAnswer(p)) };
        },
        { params: ProviderParams },
      )
      .put(
        "/providers/:provider/credentials/:id",
        async ({ params, body, request }) => {
          const p = requirePool(d, params.provider);
          await requireEntry(p, params.id);
          if (body.label === undefined && body.max_usage === undefined) throw badRequest("nothing to update: give label and/or max_usage (null clears either)");
          const label = body.label === undefined ? undefined : body.label === null || body.label.trim() === "" ? null : body.label.trim();
          const fields: { label?: string | null; maxUsage?: number | null } = {};
          if (label !== undefined) fields.label = label;
          if (body.max_usage !== undefined) fields.maxUsage = body.max_usage;
          await credentials.write(d.whoIs(request), {
            action: "providers.credentials.update",
            target: target(p, params.id),
            apply: async () => {
              if (!(await p.pool.update(params.id, fields))) throw notFound(`the ${p.pool.entryKind} is gone from the "${p.provider.id}" pool`);
            },
            detail: () => ({ label, max_usage: body.max_usage }),
          });
          return { success: true, item: await entryAnswer(p, params.id) };
        },
        { params: EntryParams, body: UpdateBody },
      )
      .delete(
        "/providers/:provider/credentials/:id",
        async ({ params, request }) => {
          const p = requirePool(d, params.provider);
          await requireEntry(p, params.id);
          await credentials.write(d.whoIs(request), {
            action: "providers.credentials.delete",
            target: target(p, params.id),
            apply: async () => {
              if (!(await p.pool.remove(params.id))) throw notFound(`the ${p.pool.entryKind} is gone from the "${p.provider.id}" pool`);
            },
            removed: true,
          });
          return { success: true, ...(await listAnswer(p)) };
        },
        { params: EntryParams },
      )
      .post("/providers/:provider/credentials/:id/enable", ({ params, request }) => setEnabled(d, request, requirePool(d, params.provider), params.id, true), { params: EntryParams })
      .post("/providers/:provider/credentials/:id/disable", ({ params, request }) => setEnabled(d, request, requirePool(d, params.provider), params.id, false), { params: EntryParams })
      .post(
        "/providers/:provider/credentials/:id/reset",
        async ({ params, request }) => {
          const p = requirePool(d, params.provider);
          await requireEntry(p, params.id);
          const reset = await credentials.write(d.whoIs(request), { action: "providers.credentials.reset", target: target(p, params.id), apply: () => p.pool.resetUsage(params.id), detail: (reset) => ({ reset }) });
          return { success: true, reset, item: await entryAnswer(p, params.id) };
        },
        { params: EntryParams },
      )
      .post(
        "/providers/:provider/credentials/:id/test",
        async ({ params, request }) => {
          const p = requirePool(d, params.provider);
          await requireEntry(p, params.id);
          const started = performance.now();
          let outcome: { ok: boolean; message: string; text?: string };
          try {
            outcome = await p.pool.test(params.id);
          } catch (e) {
            outcome = { ok: false, message: e instanceof Error ? e.message : String(e) };
          }
          // The provider's words may quote what it sent: masked like everything else.
          const scrub = scrubberFor(p);
          audit(d, request, "providers.credentials.test", target(p, params.id), { success: outcome.ok });
          return {
            success: outcome.ok,
            id: params.id,
            message: scrub.text(outcome.message).slice(0, 1000),
            ...(outcome.text !== undefined ? { text: scrub.text(outcome.text).slice(0, 2000) } : {}),
            response_time: Math.round(performance.now() - started),
            item: await entryAnswer(p, params.id, scrub),
          };
        },
        { params: EntryParams },
      );
}

async function setEnabled(d: ProviderPoolsRouteDeps, request: Request, p: Pool, id: string, enabled: boolean) {
  await requireEntry(p, id);
  await d.credentials.write(d.whoIs(request), {
    action: enabled ? "providers.credentials.enable" : "providers.credentials.disable",
    target: `${p.provider.id}/${id}`,
    apply: async () => {
      if (!(await p.pool.setEnabled(id, enabled))) throw notFound(`the ${p.pool.entryKind} is gone from the "${p.provider.id}" pool`);
    },
  });
  return { success: true, enabled, item: credentialView(await requireEntry(p, id), poolScrubber(d, p)) };
}
