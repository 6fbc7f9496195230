/** The keys of the settings table that more than one layer reads (config import/export, security, providers). */
export const SETTING_KEYS = {
  modelAliases: "model_aliases",
  admin: "admin",
  runtime: "runtime",
  proxies: "proxies",
  extra: "config_extra",
  section: (name: string) => `section.${name}`,
} as const;
