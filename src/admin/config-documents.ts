/**
 * How the admin config service moves whole documents into and out of the store: src/config/config-sync.ts.
 *
 * Transitional (issue 16): `importConfig` / `readConfig` still run on the synchronous sqlite `Store`, so this
 * adapter holds it and ignores the repositories it is handed. Its transaction joins the admin service's (the same
 * bun:sqlite connection, inside its BEGIN IMMEDIATE), so the import and the audit row still commit together. Once
 * config-sync.ts takes the async repositories, this becomes `importInto: (tx, doc, o) => importConfig(tx, doc, o)`
 * and `read: (repos) => readConfig(repos)`, and the sync store leaves.
 */
import { importConfig, readConfig } from "../config/config-sync.ts";
import type { Store } from "../store/store.ts";
import type { ConfigDocuments } from "./config-service.ts";

export function configDocuments(sync: Store): ConfigDocuments {
  return {
    importInto: async (_tx, doc, opts) => importConfig(sync, doc, opts),
    read: async () => readConfig(sync),
  };
}
