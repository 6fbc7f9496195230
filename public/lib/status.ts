/** Shared account-status badge and the readable text of any error. */
import { ApiError } from "./api.ts";
import { h } from "./dom.ts";
import { t, type MessageKey } from "./i18n.ts";

export function statusBadge(status: unknown): HTMLElement {
  const s = typeof status === "string" && status ? status : "ok";
  const known = ["ok", "cooling_down", "login_failed", "disabled", "risk_device", "muted"].includes(s);
  return h("span", { class: `badge badge-${known ? s : "other"}` }, known ? t(`status.${s}` as MessageKey) : s);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError && err.status === 0) return t("common.network");
  return err instanceof Error ? err.message : String(err);
}

/** One entry of an `errors:[…]` list as text: a string, or an object's line/identifier plus its message. */
export function itemText(item: unknown): string {
  if (typeof item === "string") return item;
  if (item && typeof item === "object") {
    const o = item as Record<string, unknown>;
    const where = o.line ?? o.identifier ?? o.account ?? o.email ?? o.mobile;
    const what = o.message ?? o.detail ?? o.error ?? o.reason;
    if (typeof what === "string") return where !== undefined ? `${String(where)}: ${what}` : what;
  }
  return String(item);
}
