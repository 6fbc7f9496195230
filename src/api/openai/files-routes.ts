/**
 * `POST /v1/files` (multipart upload to the upstream through a pooled account, waiting until it is parsed) and
 * `GET /v1/files/{id}` (asks the account that holds it). The file → account mapping is stored so chat requests
 * that reference the file run on that account (api-surface §7.2).
 */
import { Elysia } from "elysia";
import type { UpstreamModelType } from "../../core/models/index.ts";
import type { UpstreamFile, UpstreamProvider } from "../../core/upstream/provider.ts";
import type { StoredFile } from "../../store/files-repo.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { businessAuth } from "../business-auth.ts";
import { bareMediaType, sniffMediaType } from "../files/attachment-limits.ts";
import { HttpError } from "../http-error.ts";
import { lookupModel } from "../model-lookup.ts";
import { pinnedAccount } from "../request-meta.ts";

const MODEL_TYPES = new Set<UpstreamModelType>(["default", "expert", "vision"]);

/** The provider uploads go to: the one serving the default model (DeepSeek today); it must take files. */
function uploadProvider(ctx: AppContext, model: string | undefined): UpstreamProvider {
  const named = model ? lookupModel(ctx, model) : undefined;
  const resolved = named?.ok ? named.model : undefined;
  const primary = ctx.providers.primary();
  const provider = resolved ? ctx.providers.forModel(resolved) : primary;
  if (!provider) throw new HttpError(503, "no upstream provider is configured", "provider_unavailable");
  if (!provider.files) throw new HttpError(400, `images/files are not supported by provider ${provider.id}`, "attachments_not_supported");
  return provider;
}

/** `model_type` field, `X-Model-Type` header, or the type of `model`; else vision for an image, default otherwise. */
function modelTypeFor(ctx: AppContext, form: Record<string, unknown>, request: Request, mediaType: string): UpstreamModelType {
  const hint = String(form.model_type ?? request.headers.get("x-model-type") ?? "").trim().toLowerCase();
  if (hint) {
    if (!MODEL_TYPES.has(hint as UpstreamModelType)) throw new HttpError(400, `model_type must be one of ${[...MODEL_TYPES].join(", ")}`);
    return hint as UpstreamModelType;
  }
  if (typeof form.model === "string" && form.model.trim()) {
    const m = lookupModel(ctx, form.model);
    if (m.ok && m.model.modelType) return m.model.modelType;
  }
  return mediaType.startsWith("image/") ? "vision" : "default";
}

function fileObject(f: StoredFile, status: UpstreamFile["status"]) {
  return { id: f.id, object: "file", bytes: f.bytes, created_at: f.createdAt, filename: f.filename, purpose: f.purpose, status, status_details: null };
}

export function filesRoutes(ctx: AppContext) {
  const upload = async ({ body, request, caller }: { body: unknown; request: Request; caller: Caller }) => {
    if (!bareMediaType(request.headers.get("content-type")).startsWith("multipart/form-data")) throw new HttpError(400, "content-type must be multipart/form-data");
    const form = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    const file = form.file;
    if (!(file instanceof Blob)) throw new HttpError(400, "file is required");
    const data = new Uint8Array(await file.arrayBuffer());
    const filename = file instanceof File && file.name ? file.name : "upload.bin";
    const mediaType = bareMediaType(file.type) || sniffMediaType(data) || "application/octet-stream";
    const purpose = typeof form.purpose === "string" && form.purpose.trim() ? form.purpose.trim() : "assistants";
    const provider = uploadProvider(ctx, typeof form.model === "string" ? form.model : undefined);
    const modelType = modelTypeFor(ctx, form, request, mediaType);
    const up = await provider.files!.upload(
      { data, filename, mediaType, modelType, callerId: caller.id, directToken: caller.kind === "direct" ? caller.token : undefined, pinnedAccount: pinnedAccount(request, caller) },
      request.signal,
    );
    const stored: StoredFile = { id: up.id, provider: provider.id, account: up.account, caller: caller.id, filename, bytes: up.bytes || data.length, mediaType, purpose, createdAt: Math.floor(Date.now() / 1000) };
    await ctx.store.files.put(stored);
    return fileObject(stored, up.status);
  };

  const get = async ({ params, request, caller }: { params: { id: string }; request: Request; caller: Caller }) => {
    const stored = await ctx.store.files.get(params.id, caller.id);
    const provider = stored ? ctx.providers.get(stored.provider) : undefined;
    if (!stored || !provider?.files) throw new HttpError(404, "file not found", "file_not_found");
    const found = await provider.files.get(stored.id, { account: stored.account, directToken: caller.kind === "direct" ? caller.token : undefined }, request.signal);
    if (!found) throw new HttpError(404, "file not found", "file_not_found");
    return fileObject({ ...stored, bytes: found.bytes || stored.bytes }, found.status);
  };

  return new Elysia({ name: "openai-files" })
    .use(businessAuth(ctx))
    .post("/v1/files", upload)
    .post("/files", upload)
    .get("/v1/files/:id", get)
    .get("/files/:id", get);
}
