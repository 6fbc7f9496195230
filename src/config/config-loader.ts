/**
 * Start-up import of a ds2api config (DS2API_CONFIG_JSON, else the config file). The import is skipped
 * when the same document was imported before, so admin edits made since are not overwritten on restart.
 * The check and the import run under the store's start-up lock (cluster-wide on Postgres: several instances
 * starting together import once), and the import and its digest land in one transaction.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "../observability/logger.ts";
import { sha256Hex } from "../security/secret-compare.ts";
import type { StoreApi } from "../store/store-api.ts";
import { importConfigInto, type ImportResult } from "./config-sync.ts";
import { ConfigError, parseDs2ApiConfig } from "./ds2api-config.ts";
import type { ServerOptions } from "./options.ts";

const LAST_IMPORT_SETTING = "config_last_import_sha256";

export interface ConfigLoadOutcome {
  source: "env" | "file" | "none";
  skipped: boolean;
  result?: ImportResult;
  warnings: string[];
}

export async function loadStartupConfig(store: StoreApi, options: ServerOptions, logger: Logger): Promise<ConfigLoadOutcome> {
  let text: string;
  let source: "env" | "file";
  if (options.configJson) {
    text = options.configJson;
    source = "env";
  } else if (existsSync(options.configPath)) {
    try {
      text = readFileSync(options.configPath, "utf8");
    } catch (e) {
      throw new ConfigError([`cannot read config file ${options.configPath}: ${(e as Error).message}`]);
    }
    source = "file";
  } else {
    if (options.configPathExplicit) logger.warn("config file not found; starting with the stored configuration only", { path: options.configPath });
    return { source: "none", skipped: true, warnings: [] };
  }
  const { config, warnings } = parseDs2ApiConfig(text);
  for (const w of warnings) logger.warn(`config: ${w}`);
  const digest = sha256Hex(text.trim());
  const result = await store.withStartupLock(() =>
    store.transaction(async (tx): Promise<ImportResult | undefined> => {
      if ((await tx.settings.get<string>(LAST_IMPORT_SETTING)) === digest) return undefined;
      const r = await importConfigInto(tx, config, { mode: "merge", acceptTokens: true });
      await tx.settings.set(LAST_IMPORT_SETTING, digest);
      return r;
    }),
  );
  if (!result) {
    logger.debug("config unchanged since the last import; skipped", { source });
    return { source, skipped: true, warnings };
  }
  logger.info("config imported", {
    source,
    new_keys: result.importedKeys,
    new_accounts: result.importedAccounts,
    updated_accounts: result.updatedAccounts,
  });
  return { source, skipped: false, result, warnings };
}
