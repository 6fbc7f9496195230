/** Every surface resolves a requested model the same way: the registry's catalog plus the config aliases. */
import type { ModelLookup, ModelLookupFailure, ResolvedModel } from "../core/models/index.ts";
import type { AppContext } from "../context.ts";
import { HttpError } from "./http-error.ts";

export function lookupModel(ctx: AppContext, name: unknown): ModelLookup {
  return ctx.providers.catalog().lookup(name, ctx.settings.modelAliases());
}

/** The surface error for a name that reaches no model: 503 for an unconfigured provider, else `notFoundStatus`. */
export function modelLookupError(failure: ModelLookupFailure, notFoundStatus = 400): HttpError {
  return failure.code === "provider_unavailable"
    ? new HttpError(503, failure.message, "provider_unavailable")
    : new HttpError(notFoundStatus, failure.message, "model_not_found");
}

/** The resolved model, or a surface-shaped error (400 model_not_found / 503 provider_unavailable). */
export function requireModel(ctx: AppContext, name: unknown, notFoundStatus = 400): ResolvedModel {
  const r = lookupModel(ctx, name);
  if (!r.ok) throw modelLookupError(r, notFoundStatus);
  return r.model;
}
