/**
 * Settings: read the effective values, write any subset (validated, persisted, hot-reloaded), and change
 * the admin password (which revokes every JWT). Runtime zeros clear an override (back to env / default).
 */
import { Elysia, t } from "elysia";
import { SETTING_KEYS } from "../../store/setting-keys.ts";
import { DEFAULT_THINKING_INSTRUCTION } from "../../core/prompt/thinking-injection.ts";
import { hashAdminPassword, MIN_PASSWORD_LENGTH } from "../../security/admin-key.ts";
import { JWT_EXPIRE_BOUNDS } from "../../security/admin-jwt.ts";
import { badRequest } from "../http-error.ts";
import { audit, type AdminDeps } from "./admin-deps.ts";
import { resolveTurnLimits, TURN_LIMIT_KEYS } from "../../config/runtime-settings.ts";
import { turnLimitFields, turnLimitView, validateAliases, validateSection } from "./settings-validation.ts";
import { accountAdmin, accountsProvider } from "./provider-admin.ts";
import { chatHistoryLimit } from "../chat-history-recorder.ts";
import { devCaptureSettings } from "../raw-capture/capture-settings.ts";
import { maskSecret } from "../../observability/logger.ts";

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
      t.Object({ mode: t.Optional(t.Union([t.Literal("none"), t.Literal("single"), t.Literal("all")])), sessions: t.Optional(t.Union([t.Boolean(), t.Null()])) }, { additionalProperties: false }),
    ),
    current_input_file: t.Optional(
      t.Object({ enabled: t.Optional(t.Boolean()), min_chars: OptInt(1, 100_000_000), prompt_chars: OptInt(1_000, 100_000_000) }, { additionalProperties: false }),
    ),
    chat_history: t.Optional(t.Object({ limit: Int(0, 10_000) }, { additionalProperties: false })),
    dev_capture: t.Optional(t.Object({ enabled: t.Optional(t.Boolean()), sample_root: Str(4096) }, { additionalProperties: false })),
    /** `tls_profile` null clears the setting (back to DS2API_TLS_PROFILE, else okhttp). */
    upstream: t.Optional(
      t.Object(
        { tls_profile: t.Optional(t.Union([t.Literal("okhttp"), t.Literal("safari"), t.Literal("chrome"), t.Literal("firefox"), t.Literal("plain"), t.Null()])) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Keys the pool reads from the runtime section, with their hard-wired defaults when neither env nor settings say. */
type RuntimeStored = Record<string, number>;

export function settingsView(d: AdminDeps) {
  const { settings } = d.ctx;
  const pool = accountAdmin(d.ctx).settings();
  const identity = accountsProvider(d.ctx).identity?.() ?? {};
  const thinking = settings.section<{ enabled?: boolean; prompt?: string }>("thinking_injection");
  const admin = d.ctx.store.settings.get<{ password_hash?: string; jwt_expire_hours?: number; jwt_valid_after_unix?: number }>(SETTING_KEYS.admin) ?? {};
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

export function settingsRoutes(d: AdminDeps) {
  const { store } = d.ctx;
  return (app: Elysia<"/admin">) =>
    app
      .get("/settings", () => settingsView(d))
      .put(
        "/settings",
        ({ body, request }) => {
          const aliases = body.model_aliases ? validateAliases(body.model_aliases, d.ctx.providers.catalog()) : undefined;
          for (const name of ["responses", "embeddings", "auto_delete", "current_input_file"] as const) {
            if (body[name]) validateSection(name, body[name]!);
          }
          let runtime: RuntimeStored | undefined;
          if (body.runtime) {
            runtime = { ...(store.settings.get<RuntimeStored>(SETTING_KEYS.runtime) ?? {}) };
            const clearOnZero = new Set(["account_max_inflight", "account_max_queue", "global_max_inflight", "token_refresh_interval_hours", ...TURN_LIMIT_KEYS]);
            for (const [k, v] of Object.entries(body.runtime)) {
              if (v === undefined) continue;
              if (v === 0 && clearOnZero.has(k)) delete runtime[k];
              else runtime[k] = v;
            }
            if (runtime.global_max_inflight && runtime.account_max_inflight && runtime.global_max_inflight < runtime.account_max_inflight) {
              throw badRequest("runtime.global_max_inflight must be ≥ runtime.account_max_inflight");
            }
          }
          store.transaction(() => {
            if (body.admin?.jwt_expire_hours !== undefined) {
              store.settings.set(SETTING_KEYS.admin, { ...(store.settings.get<object>(SETTING_KEYS.admin) ?? {}), jwt_expire_hours: body.admin.jwt_expire_hours });
            }
            if (runtime) store.settings.set(SETTING_KEYS.runtime, runtime);
            if (aliases) store.settings.set(SETTING_KEYS.modelAliases, aliases);
            for (const name of ["client_identity", "thinking_injection", "responses", "embeddings", "auto_delete", "current_input_file", "chat_history", "dev_capture", "upstream"] as const) {
              const value = body[name];
              if (!value) continue;
              const key = SETTING_KEYS.section(name);
              const merged: Record<string, unknown> = { ...(store.settings.get<Record<string, unknown>>(key) ?? {}), ...value };
              for (const [k, v] of Object.entries(merged)) if (v === undefined || v === null) delete merged[k];
              store.settings.set(key, merged);
            }
          });
          if (body.chat_history?.limit !== undefined) store.chatHistory.prune(body.chat_history.limit);
          d.ctx.settings.invalidate();
          d.ctx.providers.reload();
          audit(d, request, "settings.update", undefined, { changed: body });
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
          let cutoff = 0;
          store.transaction(() => {
            d.ctx.adminKey.setPasswordHash(hash);
            cutoff = d.jwt.revokeAll();
          });
          audit(d, request, "settings.password", undefined, { password_changed: true, jwt_valid_after_unix: cutoff });
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
