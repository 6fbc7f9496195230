/**
 * Settings: read the effective values, write any subset (validated, persisted, hot-reloaded), and change
 * the admin password (which revokes every JWT). Runtime zeros clear an override (back to env / default).
 */
import { DEFAULT_MUTED_RECHECK_MINUTES } from "../../pool/pool-settings.ts";
import { Elysia, t } from "elysia";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import { DEFAULT_THINKING_INSTRUCTION } from "../../core/prompt/thinking-injection.ts";
import { hashAdminPassword, MIN_PASSWORD_LENGTH } from "../../security/admin-key.ts";
import { JWT_EXPIRE_BOUNDS } from "../../security/admin-jwt.ts";
import { badRequest } from "../http-error.ts";
import type { AdminServices } from "../../admin/admin-services.ts";
import type { AppContext } from "../../context.ts";
import type { AdminJwt } from "../../security/admin-jwt.ts";
import type { RequestActor } from "./admin-deps.ts";

/** What the settings page reads: the live settings, the pool and identity of the accounts' provider, the admin credentials, defaults. */
export type SettingsViewDeps = { ctx: Pick<AppContext, "settings" | "syncStore" | "providers" | "adminKey" | "options">; jwt: Pick<AdminJwt, "defaultExpireHours"> };

/** What the settings routes need: the settings service, who is asking, and the view. */
export type SettingsRouteDeps = Pick<AdminServices, "settings"> & RequestActor & SettingsViewDeps;
import type { SettingsAdmin } from "../../admin/settings-service.ts";
import { resolveTurnLimits } from "../../config/runtime-settings.ts";
import { turnLimitFields, turnLimitView } from "./settings-validation.ts";
import { accountAdmin, accountsProvider } from "./provider-admin.ts";
import { chatHistoryLimit } from "../chat-history-recorder.ts";
import { devCaptureSettings } from "../raw-capture/capture-settings.ts";
import { maskSecret } from "../../observability/logger.ts";
import { AUTO_DELETE_BOUNDS, AUTO_DELETE_DEFAULTS, PACING_BOUNDS, PACING_DEFAULTS, resolvePromptMarkers } from "../../config/human-pacing.ts";
import { TLS_PROFILES } from "../../config/tls-profile-names.ts";
import { PROMPT_MARKER_STYLES } from "../../core/prompt/markers.ts";

const Int = (min: number, max: number) => t.Optional(t.Integer({ minimum: min, maximum: max }));
const Str = (max: number) => t.Optional(t.String({ maxLength: max }));
const Loose = t.Optional(t.Record(t.String(), t.Unknown()));
/** A number that null clears (back to the default). */
const OptInt = (min: number, max: number) => t.Optional(t.Union([t.Integer({ minimum: min, maximum: max }), t.Null()]));

const RuntimeBody = t.Object(
  {
    account_max_inflight: Int(0, 256),
    account_max_queue: Int(0, 200_000),
    global_max_inflight: Int(0, 200_000),
    token_refresh_interval_hours: Int(0, 720),
    min_interval_ms: Int(0, 600_000),
    daily_request_cap: Int(0, 10_000_000),
    cooldown_seconds: Int(0, 86_400),
    muted_recheck_minutes: Int(0, 43_200),
    ...turnLimitFields(Int),
  },
  { additionalProperties: false },
);

const SettingsBody = t.Object(
  {
    admin: t.Optional(t.Object({ jwt_expire_hours: Int(JWT_EXPIRE_BOUNDS[0], JWT_EXPIRE_BOUNDS[1]) }, { additionalProperties: false })),
    runtime: t.Optional(RuntimeBody),
    model_aliases: t.Optional(t.Record(t.String(), t.String())),
    client_identity: t.Optional(
      t.Object(
        { app_name: Str(100), version: t.Optional(t.String({ pattern: "^[0-9A-Za-z._-]{1,40}$" })), platform: Str(40), api_level: Int(1, 1000), locale: t.Optional(t.String({ pattern: "^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$" })) },
        { additionalProperties: false },
      ),
    ),
    thinking_injection: t.Optional(t.Object({ enabled: t.Optional(t.Boolean()), prompt: Str(20_000) }, { additionalProperties: false })),
    responses: Loose,
    embeddings: Loose,
    auto_delete: t.Optional(
      t.Object(
        {
          mode: t.Optional(t.Union([t.Literal("none"), t.Literal("single"), t.Literal("all")])),
          sessions: t.Optional(t.Union([t.Boolean(), t.Null()])),
          delay_seconds: OptInt(...AUTO_DELETE_BOUNDS.delay_seconds),
          batch_size: OptInt(...AUTO_DELETE_BOUNDS.batch_size),
        },
        { additionalProperties: false },
      ),
    ),
    /** Role markers of the prompt; null clears (back to DS2API_PROMPT_MARKERS, else native). */
    prompt: t.Optional(t.Object({ markers: t.Optional(t.Union([...PROMPT_MARKER_STYLES.map((m) => t.Literal(m)), t.Null()])) }, { additionalProperties: false })),
    pacing: t.Optional(
      t.Object(
        {
          jitter_percent: OptInt(...PACING_BOUNDS.jitter_percent),
          session_reuse: t.Optional(t.Union([t.Boolean(), t.Null()])),
          session_reuse_max_turns: OptInt(...PACING_BOUNDS.session_reuse_max_turns),
          session_reuse_idle_seconds: OptInt(...PACING_BOUNDS.session_reuse_idle_seconds),
        },
        { additionalProperties: false },
      ),
    ),
    current_input_file: t.Optional(
      t.Object({ enabled: t.Optional(t.Boolean()), min_chars: OptInt(1, 100_000_000), prompt_chars: OptInt(1_000, 100_000_000) }, { additionalProperties: false }),
    ),
    chat_history: t.Optional(t.Object({ limit: Int(0, 10_000) }, { additionalProperties: false })),
    dev_capture: t.Optional(t.Object({ enabled: t.Optional(t.Boolean()), sample_root: Str(4096) }, { additionalProperties: false })),
    /** `tls_profile` null clears the setting (back to DS2API_TLS_PROFILE, else okhttp). */
    upstream: t.Optional(
      t.Object(
        { tls_profile: t.Optional(t.Union([...TLS_PROFILES.map((p) => t.Literal(p)), t.Null()])) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export function settingsView(d: SettingsViewDeps) {
  const { settings } = d.ctx;
  const pool = accountAdmin(d.ctx).settings();
  const identity = accountsProvider(d.ctx).identity?.() ?? {};
  const thinking = settings.section<{ enabled?: boolean; prompt?: string }>("thinking_injection");
  const admin = d.ctx.syncStore.settings.get<{ password_hash?: string; jwt_expire_hours?: number; jwt_valid_after_unix?: number }>(SETTING_KEYS.admin) ?? {};
  return {
    success: true,
    admin: {
      has_password_hash: Boolean(admin.password_hash),
      jwt_expire_hours: d.jwt.defaultExpireHours(),
      jwt_valid_after_unix: admin.jwt_valid_after_unix ?? 0,
      admin_key_source: d.ctx.adminKey.source(),
      /** Every credential /admin/login accepts now ("env", "password", "generated"). */
      accepted_credentials: d.ctx.adminKey.accepted(),
      credentials_note: d.ctx.adminKey.describe(),
      password_min_length: MIN_PASSWORD_LENGTH,
    },
    runtime: {
      account_max_inflight: pool.maxInflightPerAccount,
      account_max_queue: pool.maxQueue,
      global_max_inflight: pool.globalMaxInflight,
      token_refresh_interval_hours: pool.tokenRefreshMs / 3_600_000,
      min_interval_ms: pool.minIntervalMs,
      daily_request_cap: pool.dailyCap,
      cooldown_seconds: pool.cooldownMs / 1000,
      muted_recheck_minutes: settings.runtime().muted_recheck_minutes || DEFAULT_MUTED_RECHECK_MINUTES,
      ...turnLimitView(resolveTurnLimits(settings.runtime(), d.ctx.options.turnLimits)),
    },
    runtime_overrides: settings.runtime(),
    /** The turn limits without a stored override (environment, else default): what an empty / 0 field means. */
    runtime_defaults: turnLimitView(resolveTurnLimits({}, d.ctx.options.turnLimits)),
    model_aliases: settings.modelAliases(),
    client_identity: { app_name: identity.appName, version: identity.version, platform: identity.platform, api_level: identity.apiLevel, locale: identity.locale, device_id: identity.deviceId ? maskSecret(identity.deviceId) : undefined },
    thinking_injection: { enabled: thinking.enabled ?? true, prompt: thinking.prompt ?? "", default_prompt: DEFAULT_THINKING_INSTRUCTION },
    responses: settings.section("responses"),
    embeddings: settings.section("embeddings"),
    auto_delete: settings.section("auto_delete"),
    /** What an unset auto_delete delay / batch field means. */
    auto_delete_defaults: AUTO_DELETE_DEFAULTS,
    prompt: settings.section("prompt"),
    /** The markers in use, and what an unset prompt.markers means (DS2API_PROMPT_MARKERS, else native). */
    prompt_effective: { markers: resolvePromptMarkers(settings.section("prompt"), d.ctx.options.promptMarkers) },
    prompt_defaults: { markers: resolvePromptMarkers({}, d.ctx.options.promptMarkers) },
    pacing: settings.section("pacing"),
    /** What an unset pacing field means. */
    pacing_defaults: PACING_DEFAULTS,
    current_input_file: settings.section("current_input_file"),
    /** What an unset current_input_file field means (src/server.ts historyFilePolicy). */
    current_input_file_defaults: { enabled: true, prompt_chars: 64_000 },
    chat_history: { limit: chatHistoryLimit(d.ctx) },
    dev_capture: devCaptureSettings(d.ctx),
    /** `tls_profile`: the stored setting (null: DS2API_TLS_PROFILE, else okhttp); `tls`: asked for and in use. */
    upstream: {
      tls_profile: settings.section<{ tls_profile?: string }>("upstream").tls_profile ?? null,
      tls_profile_env: d.ctx.options.tlsProfile ?? null,
      tls: accountsProvider(d.ctx).transport?.() ?? null,
    },
    env_backed: false,
  };
}

export function settingsRoutes(d: SettingsRouteDeps) {
  const settings: SettingsAdmin = d.settings;
  return (app: Elysia<"/admin">) =>
    app
      .get("/settings", () => settingsView(d))
      .put(
        "/settings",
        ({ body, request }) => {
          settings.update(d.whoIs(request), body);
          return { success: true, message: "settings updated and hot reloaded" };
        },
        { body: SettingsBody },
      )
      .post(
        "/settings/password",
        async ({ body, request }) => {
          const password = (body.new_password ?? body.password ?? "").trim();
          if (password.length < MIN_PASSWORD_LENGTH) throw badRequest(`the new password must have at least ${MIN_PASSWORD_LENGTH} characters`);
          const hash = await hashAdminPassword(password);
          const cutoff = await settings.setPassword(d.whoIs(request), hash);
          const env = d.ctx.adminKey.accepted().includes("env");
          return {
            success: true,
            message: env ? "password updated; log in again (DS2API_ADMIN_KEY keeps working too: a console password never replaces it)" : "password updated; log in again",
            force_relogin: true,
            jwt_valid_after_unix: cutoff,
            accepted_credentials: d.ctx.adminKey.accepted(),
          };
        },
        { body: t.Object({ new_password: t.Optional(t.String({ maxLength: 1024 })), password: t.Optional(t.String({ maxLength: 1024 })) }, { additionalProperties: false }) },
      );
}
