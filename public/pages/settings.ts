/**
 * Settings: pacing and caps, timeouts and retries, token refresh, model aliases, long prompts as a file
 * (current_input_file), session deletion (auto_delete: mode, delay, batch), prompt markers, human-like traffic
 * (pacing jitter, session reuse), client identity, thinking injection, raw-sample capture, admin password. Every field has a one-line help text with its unit and what 0 / empty means.
 */
import { api, endSession } from "../lib/api.ts";
import { busy, clear, field, h, toast } from "../lib/dom.ts";
import { t, type MessageKey } from "../lib/i18n.ts";
import { errorMessage } from "../lib/status.ts";

type Settings = {
  admin?: { jwt_expire_hours?: number; credentials_note?: string; password_min_length?: number };
  runtime?: Record<string, number | undefined>;
  /** Only what is stored (the overrides); a key missing here falls back to the environment or the default. */
  runtime_overrides?: Record<string, number | undefined>;
  /** What each turn limit would be without a stored override (environment, else built-in default). */
  runtime_defaults?: Record<string, number | undefined>;
  model_aliases?: Record<string, string>;
  client_identity?: Record<string, string | number | undefined>;
  thinking_injection?: { enabled?: boolean; prompt?: string; default_prompt?: string };
  current_input_file?: { enabled?: boolean; min_chars?: number; prompt_chars?: number };
  current_input_file_defaults?: { enabled?: boolean; prompt_chars?: number };
  auto_delete?: { mode?: string; sessions?: boolean; delay_seconds?: number; batch_size?: number };
  auto_delete_defaults?: { delay_seconds?: number; batch_size?: number };
  prompt?: { markers?: string };
  prompt_defaults?: { markers?: string };
  pacing?: { jitter_percent?: number; session_reuse?: boolean; session_reuse_max_turns?: number; session_reuse_idle_seconds?: number };
  pacing_defaults?: { jitter_percent?: number; session_reuse?: boolean; session_reuse_max_turns?: number; session_reuse_idle_seconds?: number };
  dev_capture?: { enabled?: boolean; sample_root?: string; limit?: number; max_body_bytes?: number };
  upstream?: { tls_profile?: string | null; tls_profile_env?: string | null; tls?: { requested?: string; in_use?: string; impersonates?: string; reason?: string } | null };
};

const AUTO_DELETE_MODES = ["none", "single", "all"] as const;
/** "" = not stored (DS2API_PROMPT_MARKERS, else native). */
const PROMPT_MARKERS = ["", "native", "ascii", "plain"] as const;
/** "" = not stored (DS2API_TLS_PROFILE, else okhttp). */
const TLS_PROFILES = ["", "okhttp", "safari", "chrome", "firefox", "plain"] as const;

/** The auto_delete mode a stored section means (legacy `sessions: true` = all), as the engine reads it. */
function autoDeleteMode(a: Settings["auto_delete"]): (typeof AUTO_DELETE_MODES)[number] {
  if (a?.mode === "single" || a?.mode === "all") return a.mode;
  return a?.sessions === true ? "all" : "none";
}

const RUNTIME = ["account_max_inflight", "account_max_queue", "global_max_inflight", "min_interval_ms", "daily_request_cap", "cooldown_seconds", "muted_recheck_minutes"] as const;
/** Turn limits (docs/RELIABILITY.md): shown as the stored override only; empty = the default (placeholder), saved as 0, which clears it. */
const TURN_LIMITS = ["upstream_header_timeout_seconds", "upstream_idle_timeout_seconds", "turn_timeout_seconds", "max_account_attempts", "queue_wait_seconds"] as const;
const IDENTITY = ["app_name", "version", "platform", "api_level", "locale"] as const;

/** "alias = model" lines → map; throws a readable error naming the bad line. */
export function parseAliases(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const m = /^(.+?)\s*(?:=|->|:)\s*(.+)$/.exec(line);
    if (!m) throw new Error(t("set.bad_alias", { line: i + 1 }));
    out[m[1]!.trim()] = m[2]!.trim();
  });
  return out;
}

function numberInput(id: string, value: unknown, placeholder?: unknown): HTMLInputElement {
  return h("input", {
    type: "number",
    min: 0,
    step: 1,
    inputmode: "numeric",
    id: `set-${id}`,
    name: id,
    value: typeof value === "number" ? value : "",
    placeholder: typeof placeholder === "number" ? placeholder : undefined,
  });
}

export function renderSettings(root: HTMLElement): void {
  const body = h("div", null, t("common.loading"));
  root.append(h("div", { class: "page-head" }, h("h2", null, t("nav.settings"))), body);

  async function load(): Promise<void> {
    let s: Settings;
    try {
      s = await api<Settings>("GET", "/admin/settings");
    } catch (err) {
      clear(body, h("p", { class: "form-error" }, errorMessage(err)));
      return;
    }
    const runtime = s.runtime ?? {};
    const runtimeInputs = RUNTIME.filter((k) => k in runtime).map((k) => [k, numberInput(k, runtime[k])] as const);
    const overrides = s.runtime_overrides ?? {};
    const defaults = s.runtime_defaults ?? {};
    const turnInputs = TURN_LIMITS.filter((k) => k in runtime).map((k) => {
      const stored = overrides[k];
      return [k, numberInput(k, typeof stored === "number" && stored > 0 ? stored : undefined, defaults[k] ?? runtime[k])] as const;
    });
    const refresh = numberInput("token_refresh_interval_hours", runtime.token_refresh_interval_hours);
    const jwtHours = numberInput("jwt_expire_hours", s.admin?.jwt_expire_hours);
    const aliases = h("textarea", { id: "set-aliases", rows: 6, spellcheck: "false" });
    aliases.value = Object.entries(s.model_aliases ?? {})
      .map(([a, m]) => `${a} = ${m}`)
      .join("\n");
    const identity = s.client_identity ?? {};
    const identityInputs = IDENTITY.map((k) => [k, h("input", { id: `set-${k}`, name: k, value: identity[k] ?? "" })] as const);
    const thinkOn = h("input", { type: "checkbox", id: "set-thinking-enabled", checked: Boolean(s.thinking_injection?.enabled) });
    const thinkPrompt = h("textarea", { id: "set-thinking-prompt", rows: 4, placeholder: s.thinking_injection?.default_prompt ?? "" });
    thinkPrompt.value = s.thinking_injection?.prompt ?? "";
    const cif = s.current_input_file ?? {};
    const cifDefaults = s.current_input_file_defaults ?? {};
    const cifOn = h("input", { type: "checkbox", id: "set-cif-enabled", checked: cif.enabled ?? cifDefaults.enabled ?? true });
    const cifMin = numberInput("cif-min-chars", cif.min_chars);
    const cifPrompt = numberInput("cif-prompt-chars", cif.prompt_chars, cifDefaults.prompt_chars);
    const adMode = h(
      "select",
      { id: "set-auto-delete-mode", name: "auto_delete_mode" },
      AUTO_DELETE_MODES.map((m) => h("option", { value: m, selected: m === autoDeleteMode(s.auto_delete) }, t(`set.auto_delete.${m}` as MessageKey))),
    );
    const adDefaults = s.auto_delete_defaults ?? {};
    const adDelay = numberInput("auto_delete_delay_seconds", s.auto_delete?.delay_seconds, adDefaults.delay_seconds);
    const adBatch = numberInput("auto_delete_batch_size", s.auto_delete?.batch_size, adDefaults.batch_size);
    const markerDefault = s.prompt_defaults?.markers ?? "native";
    const markers = h(
      "select",
      { id: "set-prompt-markers", name: "prompt_markers" },
      PROMPT_MARKERS.map((m) => h("option", { value: m, selected: m === (s.prompt?.markers ?? "") }, m ? t(`set.prompt_markers.${m}` as MessageKey) : `${t("set.prompt_markers.default")} (${markerDefault})`)),
    );
    const tlsDefault = s.upstream?.tls_profile_env ?? "okhttp";
    const tlsProfile = h(
      "select",
      { id: "set-tls-profile", name: "tls_profile" },
      TLS_PROFILES.map((p) => h("option", { value: p, selected: p === (s.upstream?.tls_profile ?? "") }, p ? t(`set.tls_profile.${p}` as MessageKey) : `${t("set.prompt_markers.default")} (${tlsDefault})`)),
    );
    const tlsNow = s.upstream?.tls;
    const pacing = s.pacing ?? {};
    const pacingDefaults = s.pacing_defaults ?? {};
    const jitter = numberInput("jitter_percent", pacing.jitter_percent, pacingDefaults.jitter_percent);
    const reuseOn = h("input", { type: "checkbox", id: "set-session-reuse", checked: pacing.session_reuse ?? pacingDefaults.session_reuse ?? false });
    const reuseTurns = numberInput("session_reuse_max_turns", pacing.session_reuse_max_turns, pacingDefaults.session_reuse_max_turns);
    const reuseIdle = numberInput("session_reuse_idle_seconds", pacing.session_reuse_idle_seconds, pacingDefaults.session_reuse_idle_seconds);
    const deviceId = s.client_identity?.device_id;
    const capture = s.dev_capture ?? {};
    const captureOn = h("input", { type: "checkbox", id: "set-capture-enabled", checked: capture.enabled === true });
    const captureRoot = h("input", { id: "set-capture-root", name: "sample_root", value: capture.sample_root ?? "", spellcheck: "false" });

    const num = (i: HTMLInputElement) => (i.value.trim() === "" ? undefined : Number(i.value));
    const save = h("button", { class: "btn btn-primary", type: "submit", id: "set-save" }, t("common.save"));
    const form = h(
      "form",
      {
        id: "settings-form",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await busy(save, async () => {
            try {
              const rt: Record<string, number> = {};
              for (const [k, i] of runtimeInputs) {
                const v = num(i);
                if (v !== undefined) rt[k] = v;
              }
              // An empty turn limit goes back to the default: 0 clears the stored override.
              for (const [k, i] of turnInputs) rt[k] = num(i) ?? 0;
              const r = num(refresh);
              if (r !== undefined) rt.token_refresh_interval_hours = r;
              const ci: Record<string, string | number> = {};
              for (const [k, i] of identityInputs) if (i.value.trim()) ci[k] = k === "api_level" && /^\d+$/.test(i.value.trim()) ? Number(i.value.trim()) : i.value.trim();
              const payload: Record<string, unknown> = {
                runtime: rt,
                model_aliases: parseAliases(aliases.value),
                client_identity: ci,
                thinking_injection: { enabled: thinkOn.checked, prompt: thinkPrompt.value },
                // Empty numbers go back to the default (null clears the stored value).
                current_input_file: { enabled: cifOn.checked, min_chars: num(cifMin) || null, prompt_chars: num(cifPrompt) || null },
                // Empty numbers go back to the default; 0 is a real delay (delete at once) and a real jitter (none).
                auto_delete: { mode: adMode.value, sessions: null, delay_seconds: num(adDelay) ?? null, batch_size: num(adBatch) || null },
                prompt: { markers: markers.value || null },
                upstream: { tls_profile: tlsProfile.value || null },
                pacing: {
                  jitter_percent: num(jitter) ?? null,
                  session_reuse: reuseOn.checked,
                  session_reuse_max_turns: num(reuseTurns) || null,
                  session_reuse_idle_seconds: num(reuseIdle) || null,
                },
              };
              const dc: Record<string, unknown> = { enabled: captureOn.checked };
              // The shown folder is the resolved default when none is set: only a changed folder is saved.
              if (captureRoot.value.trim() !== (capture.sample_root ?? "")) dc.sample_root = captureRoot.value.trim();
              if (captureOn.checked !== (capture.enabled === true) || "sample_root" in dc) payload.dev_capture = dc;
              const jh = num(jwtHours);
              if (jh !== undefined) payload.admin = { jwt_expire_hours: jh };
              await api("PUT", "/admin/settings", payload);
              toast(t("common.saved"), "ok");
              await load();
            } catch (err) {
              toast(errorMessage(err), "error");
            }
          });
        },
      },
      h(
        "section",
        { class: "card", id: "set-pacing" },
        h("h3", null, t("set.pacing")),
        h("p", { class: "hint" }, t("set.pacing_hint")),
        h(
          "div",
          { class: "form-grid" },
          runtimeInputs.map(([k, i]) => field(t(`set.${k}` as MessageKey), i, t(`set.${k}_hint` as MessageKey))),
        ),
      ),
      h(
        "section",
        { class: "card", id: "set-turn-limits" },
        h("h3", null, t("set.turn_limits")),
        h("p", { class: "hint" }, t("set.turn_limits_hint")),
        h("div", { class: "form-grid" }, turnInputs.map(([k, i]) => field(t(`set.${k}` as MessageKey), i, t(`set.${k}_hint` as MessageKey)))),
      ),
      h("section", { class: "card" }, h("h3", null, t("set.token")), h("div", { class: "form-grid" }, field(t("set.token_refresh_interval_hours"), refresh, t("set.token_refresh_interval_hours_hint")), field(t("set.jwt_expire_hours"), jwtHours, t("set.jwt_expire_hours_hint")))),
      h("section", { class: "card" }, h("h3", null, t("set.aliases")), field(t("set.aliases_hint"), aliases)),
      h(
        "section",
        { class: "card", id: "set-current-input-file" },
        h("h3", null, t("set.cif")),
        h("p", { class: "hint" }, t("set.cif_hint")),
        h("label", { class: "check" }, cifOn, t("set.cif_enabled")),
        h(
          "div",
          { class: "form-grid" },
          field(t("set.cif_prompt_chars"), cifPrompt, t("set.cif_prompt_chars_hint", { n: cifDefaults.prompt_chars ?? 64000 })),
          field(t("set.cif_min_chars"), cifMin, t("set.cif_min_chars_hint")),
        ),
      ),
      h(
        "section",
        { class: "card", id: "set-auto-delete" },
        h("h3", null, t("set.auto_delete")),
        h("p", { class: "hint" }, t("set.auto_delete_hint_delayed")),
        h(
          "div",
          { class: "form-grid" },
          field(t("set.auto_delete_mode"), adMode, t("set.auto_delete_hint")),
          field(t("set.auto_delete_delay_seconds"), adDelay, t("set.auto_delete_delay_seconds_hint", { n: adDefaults.delay_seconds ?? 60 })),
          field(t("set.auto_delete_batch_size"), adBatch, t("set.auto_delete_batch_size_hint", { n: adDefaults.batch_size ?? 10 })),
        ),
      ),
      h(
        "section",
        { class: "card", id: "set-human" },
        h("h3", null, t("set.human")),
        h("p", { class: "hint" }, t("set.human_hint")),
        h(
          "div",
          { class: "form-grid" },
          field(t("set.jitter_percent"), jitter, t("set.jitter_percent_hint", { n: pacingDefaults.jitter_percent ?? 25 })),
          field(t("set.session_reuse_max_turns"), reuseTurns, t("set.session_reuse_max_turns_hint", { n: pacingDefaults.session_reuse_max_turns ?? 8 })),
          field(t("set.session_reuse_idle_seconds"), reuseIdle, t("set.session_reuse_idle_seconds_hint", { n: pacingDefaults.session_reuse_idle_seconds ?? 600 })),
        ),
        h("label", { class: "check" }, reuseOn, t("set.session_reuse")),
        h("p", { class: "hint" }, t("set.session_reuse_hint")),
      ),
      h(
        "section",
        { class: "card", id: "set-prompt" },
        h("h3", null, t("set.prompt")),
        h("p", { class: "hint" }, t("set.prompt_hint")),
        field(t("set.prompt_markers"), markers, t("set.prompt_markers_hint", { v: markerDefault })),
      ),
      h(
        "section",
        { class: "card", id: "set-identity" },
        h("h3", null, t("set.identity")),
        h("p", { class: "hint" }, t("set.identity_hint")),
        h("div", { class: "form-grid" }, identityInputs.map(([k, i]) => field(t(`set.${k}` as MessageKey), i, t(`set.${k}_hint` as MessageKey)))),
        field(t("set.tls_profile"), tlsProfile, t("set.tls_profile_hint", { v: tlsDefault })),
        tlsNow
          ? h(
              "p",
              { class: tlsNow.reason ? "form-error" : "hint", id: "set-tls-in-use" },
              t("set.tls_in_use", { p: tlsNow.in_use ?? "?", c: tlsNow.impersonates ?? "Bun" }),
              tlsNow.reason ? ` — ${tlsNow.reason}` : "",
            )
          : null,
        deviceId
          ? h("p", { class: "hint", id: "set-device-id" }, `${t("set.device_id")}: `, h("code", null, String(deviceId)))
          : h("p", { class: "hint", id: "set-device-id" }, t("set.device_per_account")),
      ),
      h(
        "section",
        { class: "card", id: "set-thinking" },
        h("h3", null, t("set.thinking")),
        h("p", { class: "hint" }, t("set.thinking_hint")),
        h("label", { class: "check" }, thinkOn, t("set.thinking_enabled")),
        field(t("set.thinking_prompt"), thinkPrompt),
      ),
      h(
        "section",
        { class: "card", id: "set-capture" },
        h("h3", null, t("set.capture")),
        h("p", { class: "hint" }, t("set.capture_hint", { limit: capture.limit ?? 20, mb: Math.round((capture.max_body_bytes ?? 5 * 1024 * 1024) / 1048576) })),
        h("label", { class: "check" }, captureOn, t("set.capture_enabled")),
        field(t("set.capture_root"), captureRoot, t("set.capture_root_hint")),
        h("p", { class: "hint" }, t("set.history_note")),
      ),
      h("div", { class: "sticky-actions" }, save),
    );

    const pw = h("input", { type: "password", id: "set-new-password", autocomplete: "new-password", minlength: s.admin?.password_min_length ?? 12, required: true });
    const pwBtn = h("button", { class: "btn btn-danger", type: "submit" }, t("set.password_submit"));
    const pwForm = h(
      "form",
      {
        class: "card",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await busy(pwBtn, async () => {
            try {
              await api("POST", "/admin/settings/password", { new_password: pw.value });
              toast(t("common.saved"), "ok");
              endSession();
            } catch (err) {
              toast(errorMessage(err), "error");
            }
          });
        },
      },
      h("h3", null, t("set.password")),
      field(t("set.new_password"), pw, t("set.password_hint")),
      s.admin?.credentials_note ? h("p", { class: "hint", id: "set-credentials-note" }, s.admin.credentials_note) : null,
      h("div", { class: "form-actions" }, pwBtn),
    );
    clear(body, form, pwForm);
  }
  void load();
}
