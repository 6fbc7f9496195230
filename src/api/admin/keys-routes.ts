/**
 * Client API keys with usage and quotas — HTTP over the keys service. Only a keyed hash of each key is stored:
 * the full key is shown once, in the answer that creates it, and can never be read back; everywhere else a key is
 * `key_preview` (first 2 + **** + last 2) and `key_id`.
 */
import { Elysia, t } from "elysia";
import type { KeysAdmin } from "../../admin/keys-service.ts";
import type { ApiKeyRecord } from "../../store/api-keys-repo.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { KeyUsageTracker } from "../../security/key-usage.ts";
import type { RequestActor } from "./admin-deps.ts";

/** What the key routes need: the keys service, who is asking, and today's token tally per key. */
export type KeysRouteDeps = Pick<AdminServices, "keys"> & RequestActor & { usage: Pick<KeyUsageTracker, "tokensToday" | "dailyTokens"> };

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
export function findKey(d: Pick<AdminServices, "keys">, ref: string): Promise<ApiKeyRecord | undefined> {
  return d.keys.find(ref);
}

export async function keyView(d: Pick<KeysRouteDeps, "keys" | "usage">, k: ApiKeyRecord) {
  const keys: KeysAdmin = d.keys;
  const usage = await keys.usage(k.hash);
  const quota = await keys.quota(k.hash);
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
      // Exact (the cluster's tally with several instances); what this instance knows when that read fails.
      tokens_today: await d.usage.dailyTokens(k.hash).catch(() => d.usage.tokensToday(k.hash)),
    },
    quota: { requests_per_minute: quota.requestsPerMinute ?? null, tokens_per_day: quota.tokensPerDay ?? null },
  };
}

export function keysRoutes(d: KeysRouteDeps) {
  const keys: KeysAdmin = d.keys;
  return (app: Elysia<"/admin">) =>
    app
      .get("/keys", async () => {
        const items = [];
        for (const k of await keys.list()) items.push(await keyView(d, k));
        return { items, total: items.length };
      })
      .post(
        "/keys",
        async ({ body, request }) => {
          const { key, record, total } = await keys.add(d.whoIs(request), body);
          return { success: true, total_keys: total, key, key_id: record.id, key_preview: record.preview, note: "the full key is shown only now; only its hash is stored" };
        },
        { body: AddBody },
      )
      .put(
        "/keys/:key",
        async ({ params, body, request }) => {
          const { total } = await keys.update(d.whoIs(request), params.key, body);
          return { success: true, total_keys: total };
        },
        { body: UpdateBody },
      )
      .delete("/keys/:key", async ({ params, request }) => {
        const { total } = await keys.remove(d.whoIs(request), params.key);
        return { success: true, total_keys: total };
      });
}
