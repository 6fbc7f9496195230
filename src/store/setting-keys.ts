/** The keys of the settings table that more than one layer reads (config import/export, security, providers). */
export const SETTING_KEYS = {
  modelAliases: "model_aliases",
  admin: "admin",
  runtime: "runtime",
  proxies: "proxies",
  extra: "config_extra",
  /** Chat sessions a stopped server still owed a deletion (auto_delete), by account; never holds a token. */
  pendingSessionDeletes: "pending_session_deletes",
  section: (name: string) => `section.${name}`,
} as const;
