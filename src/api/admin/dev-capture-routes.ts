/**
 * Dev capture and raw samples (§12.7): the in-memory capture list, one captured chat turn written as a
 * sample, and saving captured chains as samples (`meta.json` + `upstream.stream.sse`, the fixtures' layout).
 * Everything here is off until the `dev_capture.enabled` setting is on.
 */
import { Elysia, t } from "elysia";
import { CaptureLog, responseText, type CaptureEntry } from "../raw-capture/capture-log.ts";
import { devCaptureSettings } from "../raw-capture/capture-settings.ts";
import { checkSampleId, defaultSampleId, withoutCredentials, writeSample } from "../raw-capture/sample-writer.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { ownBaseUrl, pickApiKey } from "./loopback.ts";

const PREVIEW_CHARS = 240;
const DEFAULT_MODEL = "deepseek-v4-flash";

interface Chain {
  chain_key: string;
  entries: CaptureEntry[];
}

function chains(entries: CaptureEntry[]): Chain[] {
  const map = new Map<string, CaptureEntry[]>();
  for (const e of entries) {
    const key = e.chat_session_id ? `session:${e.chat_session_id}` : `capture:${e.id}`;
    map.set(key, [...(map.get(key) ?? []), e]);
  }
  return [...map].map(([chain_key, list]) => ({ chain_key, entries: list })).reverse();
}

function chainView(c: Chain, query: string) {
  const first = c.entries[0]!;
  const last = c.entries[c.entries.length - 1]!;
  const prompt = typeof first.request_body.prompt === "string" ? first.request_body.prompt : JSON.stringify(first.request_body);
  return {
    chain_key: c.chain_key,
    capture_ids: c.entries.map((e) => e.id),
    created_at: first.created_at,
    round_count: c.entries.length,
    account_id: first.account_id,
    initial_label: first.label,
    initial_url: first.url,
    latest_label: last.label,
    latest_url: last.url,
    request_preview: prompt.slice(0, PREVIEW_CHARS),
    response_preview: responseText(last).slice(0, PREVIEW_CHARS),
    query,
    response_truncated: c.entries.some((e) => e.response_truncated),
  };
}

function matches(c: Chain, q: string): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return c.entries.some((e) => JSON.stringify(e.request_body).toLowerCase().includes(needle) || responseText(e).toLowerCase().includes(needle));
}

export function devCaptureRoutes(d: AdminDeps) {
  const { ctx } = d;
  const log = new CaptureLog(ctx);
  ctx.observers.push(log);
  const requireOn = () => {
    const s = devCaptureSettings(ctx);
    if (!s.enabled) throw new HttpError(409, "dev capture is off: turn on the dev_capture.enabled setting first");
    return s;
  };
  return (app: Elysia<"/admin">) =>
    app
      .get("/dev/captures", () => {
        const s = devCaptureSettings(ctx);
        const items = log
          .all()
          .reverse()
          .map((e) => ({
            id: e.id,
            created_at: e.created_at,
            label: e.label,
            url: e.url,
            account_id: e.account_id,
            model: e.model,
            status_code: e.status_code,
            chat_session_id: e.chat_session_id,
            // The tap never sees tokens; this copy drops any credential-looking key all the same.
            request_body: withoutCredentials(e.request_body),
            response_bytes: e.size,
            response_body: responseText(e),
            response_truncated: e.response_truncated,
          }));
        return { enabled: s.enabled, limit: s.limit, max_body_bytes: s.max_body_bytes, sample_root: s.sample_root, items };
      })
      .delete("/dev/captures", async ({ request }) => {
        log.clear();
        await audit(d, request, "dev_capture.clear");
        return { success: true, detail: "capture logs cleared" };
      })
      .post(
        "/dev/raw-samples/capture",
        async ({ body, request }) => {
          const s = requireOn();
          const { api_key, message, sample_id, ...chat } = body as Record<string, unknown>;
          const sampleId = checkSampleId(typeof sample_id === "string" && sample_id ? sample_id : defaultSampleId(typeof chat.model === "string" ? chat.model : DEFAULT_MODEL));
          const credential = await pickApiKey(ctx, typeof api_key === "string" ? api_key : undefined);
          const payload: Record<string, unknown> = { model: DEFAULT_MODEL, stream: true, ...chat };
          if (!Array.isArray(payload.messages)) payload.messages = [{ role: "user", content: typeof message === "string" && message ? message : "你好" }];
          const tag = log.issueTag();
          let res: Response;
          let text: string;
          try {
            res = await fetch(`${ownBaseUrl(ctx)}/v1/chat/completions`, {
              method: "POST",
              headers: { authorization: `Bearer ${credential}`, "content-type": "application/json", "x-ds2-capture-tag": tag },
              body: JSON.stringify(payload),
              signal: request.signal,
            });
            text = await res.text();
          } finally {
            log.releaseTag(tag);
          }
          const entries = log.byTag(tag);
          if (entries.length === 0) throw new HttpError(500, "no upstream capture was recorded");
          const written = writeSample(s.sample_root, sampleId, { source: "admin/dev/raw-samples/capture", request: payload, entries });
          await audit(d, request, "dev_capture.sample", sampleId);
          return new Response(text, {
            status: res.status,
            headers: {
              "content-type": res.headers.get("content-type") ?? "application/json",
              "x-ds2-sample-id": written.sample_id,
              "x-ds2-sample-dir": written.sample_dir,
              "x-ds2-sample-meta": written.meta_path,
              "x-ds2-sample-upstream": written.upstream_path,
            },
          });
        },
        { body: t.Record(t.String(), t.Unknown()) },
      )
      .get("/dev/raw-samples/query", ({ query }) => {
        const q = typeof query.q === "string" ? query.q.trim() : "";
        const n = Number(query.limit ?? 20);
        const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 50) : 20;
        const items = chains(log.all())
          .filter((c) => matches(c, q))
          .slice(0, limit)
          .map((c) => chainView(c, q));
        return { query: q, limit, count: items.length, items };
      })
      .post(
        "/dev/raw-samples/save",
        async ({ body, request }) => {
          const s = requireOn();
          const all = chains(log.all());
          let chain: Chain | undefined;
          if (body.chain_key) chain = all.find((c) => c.chain_key === body.chain_key);
          else if (body.capture_id) chain = all.find((c) => c.entries.some((e) => e.id === body.capture_id));
          else if (body.chat_session_id) chain = all.find((c) => c.chain_key === `session:${body.chat_session_id}`);
          else if (body.query) chain = all.find((c) => matches(c, body.query!));
          else throw badRequest("give one of chain_key, capture_id, query or chat_session_id");
          if (!chain) throw badRequest("no captures match");
          const first = chain.entries[0]!;
          const sampleId = checkSampleId(body.sample_id || defaultSampleId(first.model ?? "capture"));
          const written = writeSample(s.sample_root, sampleId, {
            source: body.source || "admin/dev/raw-samples/save",
            request: withoutCredentials(first.request_body),
            entries: chain.entries,
          });
          await audit(d, request, "dev_capture.sample", sampleId);
          return { success: true, ...written, chain_key: chain.chain_key, capture_ids: chain.entries.map((e) => e.id), round_count: chain.entries.length };
        },
        {
          body: t.Object({
            chain_key: t.Optional(t.String()),
            capture_id: t.Optional(t.String()),
            query: t.Optional(t.String()),
            chat_session_id: t.Optional(t.String()),
            sample_id: t.Optional(t.String()),
            source: t.Optional(t.String({ maxLength: 200 })),
          }),
        },
      );
}
