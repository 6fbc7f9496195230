/** How the admin config service moves whole documents into and out of the store: src/config/config-sync.ts. */
import { importConfigInto, readConfig } from "../config/config-sync.ts";
import type { ConfigDocuments } from "./config-service.ts";

export function configDocuments(): ConfigDocuments {
  return { importInto: importConfigInto, read: readConfig };
}
