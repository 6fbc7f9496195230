/**
 * Client API keys with usage and quotas. Only a keyed hash of each key is stored: the full key is shown
 * once, in the answer that creates it, and can never be read back; everywhere else a key is `key_preview`
 * (first 2 + **** + last 2) and `key_id`.
 */
import { Elysia, t } from "elysia";
import { randomBytes } from "node:crypto";
import type { ApiKeyRecord } from "../../store/api-keys-repo.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";

const Limit = t.Optional(t.Nullable(t.Integer({ minimum: 0, maximum: 1_000_000_000 })));

const AddBody = t.Object(
  { key: t.Optional(t.String({ maxLength: 512 })), name: t.Optional(t.String({ maxLength: 200 })), remark: t.Optional(t.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

const UpdateBody = t.Object(
  {
    name: t.Optional(t.Nullable(t.String({ maxLength: 200 }))),
    remark: t.Optional(t.Nullable(t.String({ maxLength: 2000 }))),
    quota: t.Optional(t.Object({ requests_per_minute: Limit, tokens_per_day: Limit }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** The stored key named by its key_id or its full value. */
export function findKey(d: AdminDeps, ref: string): ApiKeyRecord | undefined {
  let id = ref;
  try {
    id = decodeURIComponent(ref);
  } catch {
    // keep as is
  }
  return d.ctx.store.apiKeys.byId(id) ?? d.ctx.store.apiKeys.find(id);
}

export function keyView(d: AdminDeps, k: ApiKeyRecord) {
  const usage = d.ctx.store.keyUsage.usage(k.hash);
  const quota = d.ctx.store.keyUsage.quota(k.hash);
  return {
    key_preview: k.preview,
    key_id: k.id,
    name: k.name ?? "",
    remark: k.remark ?? "",
    created_at: k.createdAt,
    usage: {
      requests: usage.requests,
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      last_used_at: usage.lastUsedAt ?? null,
      tokens_today: d.usage.tokensToday(k.hash),
    },
    quota: { requests_per_minute: quota.requestsPerMinute ?? null, tokens_per_day: quota.tokensPerDay ?? null },
  };
}

export function keysRoutes(d: AdminDeps) {
  const { store, apiKeys } = d.ctx;
  return (app: Elysia<"/admin">) =>
    app
      .get("/keys", () => {
        const items = store.apiKeys.list().map((k) => keyView(d, k));
        return { items, total: items.length };
      })
      .post(
        "/keys",
        ({ body, request }) => {
          let key = body.key;
          if (key === undefined) key = `sk-${randomBytes(24).toString("base64url")}`;
          key = key.trim();
          if (!key) throw badRequest("key must not be empty (omit it to have one generated)");
          if (/\s/.test(key)) throw badRequest("key must not contain whitespace");
          if (key.includes("****")) throw badRequest("key looks like a masked preview; give the full key or omit it");
          if (store.apiKeys.find(key)) throw new HttpError(409, "this key already exists");
          store.apiKeys.upsert({ key, name: body.name?.trim() || undefined, remark: body.remark?.trim() || undefined });
          const added = store.apiKeys.find(key)!;
          apiKeys.reload();
          audit(d, request, "keys.add", added.preview, { key_id: added.id, name: body.name });
          return { success: true, total_keys: store.apiKeys.count(), key, key_id: added.id, key_preview: added.preview, note: "the full key is shown only now; only its hash is stored" };
        },
        { body: AddBody },
      )
      .put(
        "/keys/:key",
        ({ params, body, request }) => {
          const k = findKey(d, params.key);
          if (!k) throw notFound("API key not found");
          store.transaction(() => {
            store.apiKeys.update(k.hash, {
              name: body.name === undefined ? undefined : body.name?.trim() || null,
              remark: body.remark === undefined ? undefined : body.remark?.trim() || null,
            });
            if (body.quota) {
              const current = store.keyUsage.quota(k.hash);
              const pick = (v: number | null | undefined, old: number | undefined) => (v === undefined ? old : v || undefined);
              store.keyUsage.setQuota(k.hash, {
                requestsPerMinute: pick(body.quota.requests_per_minute, current.requestsPerMinute),
                tokensPerDay: pick(body.quota.tokens_per_day, current.tokensPerDay),
              });
            }
          });
          d.usage.quotasChanged();
          audit(d, request, "keys.update", k.preview, { key_id: k.id, fields: Object.keys(body), quota: body.quota });
          return { success: true, total_keys: store.apiKeys.count() };
        },
        { body: UpdateBody },
      )
      .delete("/keys/:key", ({ params, request }) => {
        const k = findKey(d, params.key);
        if (!k) throw notFound("API key not found");
        store.transaction(() => {
          store.apiKeys.delete(k.hash);
          store.keyUsage.forget(k.hash);
        });
        apiKeys.reload();
        d.usage.forget(k.hash);
        audit(d, request, "keys.delete", k.preview, { key_id: k.id });
        return { success: true, total_keys: store.apiKeys.count() };
      });
}
