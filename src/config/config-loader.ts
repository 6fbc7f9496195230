/**
 * Start-up import of a ds2api config (DS2API_CONFIG_JSON, else the config file). The import is skipped
 * when the same document was imported before, so admin edits made since are not overwritten on restart.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "../observability/logger.ts";
import { sha256Hex } from "../security/secret-compare.ts";
import type { Store } from "../store/store.ts";
import { importConfig, type ImportResult } from "./config-sync.ts";
import { ConfigError, parseDs2ApiConfig } from "./ds2api-config.ts";
import type { ServerOptions } from "./options.ts";

const LAST_IMPORT_SETTING = "config_last_import_sha256";

export interface ConfigLoadOutcome {
  source: "env" | "file" | "none";
  skipped: boolean;
  result?: ImportResult;
  warnings: string[];
}

export function loadStartupConfig(store: Store, options: ServerOptions, logger: Logger): ConfigLoadOutcome {
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
  if (store.settings.get<string>(LAST_IMPORT_SETTING) === digest) {
    logger.debug("config unchanged since the last import; skipped", { source });
    return { source, skipped: true, warnings };
  }
  const result = importConfig(store, config, { mode: "merge", acceptTokens: true });
  store.settings.set(LAST_IMPORT_SETTING, digest);
  logger.info("config imported", {
    source,
    new_keys: result.importedKeys,
    new_accounts: result.importedAccounts,
    updated_accounts: result.updatedAccounts,
  });
  return { source, skipped: false, result, warnings };
}
