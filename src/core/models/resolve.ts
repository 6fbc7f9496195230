/**
 * Model name resolution shared by every surface (api-surface §3.2, issue 12 §4): trim + lower-case, then the
 * catalog's routing (catalog.ts): `provider/model`, the primary provider's ids, config aliases over the
 * built-ins, another provider's unambiguous id, `<alias>-nothinking`. No family heuristics.
 */
import type { ModelCatalog, ResolvedModel, UserAliases } from "./catalog.ts";

export type { ModelLookup, ModelLookupFailure, ResolvedModel, UserAliases } from "./catalog.ts";

/** Resolve a requested model name in a catalog; null when it is not available. */
export function resolveModel(name: unknown, userAliases: UserAliases | null | undefined, catalog: ModelCatalog): ResolvedModel | null {
  return catalog.resolve(name, userAliases);
}

/** Error text for an unresolved model; names the listed ids. */
export function modelNotAvailableMessage(name: string, catalog: ModelCatalog): string {
  return catalog.notAvailableMessage(name);
}
