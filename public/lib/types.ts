/** Shapes of the admin API answers the console reads (see notes/admin-contract.md). */

export interface AccountView {
  identifier: string;
  email?: string;
  mobile?: string;
  name?: string;
  remark?: string;
  proxy_id?: string;
  /** The device id the account logs in with. */
  device_id?: string;
  enabled?: boolean;
  has_password?: boolean;
  has_token?: boolean;
  token_preview?: string;
  token_age_seconds?: number | null;
  status?: string;
  status_reason?: string;
  cooldown_until?: number | string | null;
  last_error?: string | null;
  last_used_at?: number | string | null;
  request_count?: number;
  inflight?: number;
  test_status?: string;
}

export interface AccountPage {
  items: AccountView[];
  total: number;
  page: number;
  page_size: number;
  total_pages: number;
}

export interface QueueStatus {
  available: number;
  in_use: number;
  total: number;
  max_inflight_per_account: number;
  global_max_inflight: number;
  /** The limit that holds: the global cap, else enabled accounts × per-account. */
  global_limit?: number;
  global_limit_source?: "global_max_inflight" | "accounts_x_per_account";
  usable_accounts?: number;
  recommended_concurrency: number;
  waiting: number;
  max_queue_size: number;
}

export interface TestResult {
  account: string;
  success: boolean;
  response_time?: number;
  message?: string;
  model?: string;
  session_count?: number;
}

export interface KeyView {
  key_preview: string;
  key_id: string;
  name?: string;
  remark?: string;
  created_at?: number | string;
  usage?: { requests?: number; prompt_tokens?: number; completion_tokens?: number; last_used_at?: number | string | null; tokens_today?: number };
  quota?: { requests_per_minute?: number | null; tokens_per_day?: number | null };
}

export interface RecentError {
  at: number | string;
  kind?: string;
  account?: string;
  message: string;
}

/** GET /admin/providers item: a registered upstream provider and the status of its pool. */
export interface ProviderView {
  id: string;
  display_name: string;
  configured: boolean;
  models: string[];
  pool: "accounts" | "credentials" | null;
  entry_kind: string | null;
  manage: string | null;
  accounts: { total: number; enabled: number; usable: number; cooling: number; failing: number; disabled: number; in_use: number; available: number; waiting: number } | null;
  credentials: CredentialPoolStatus | null;
  /** The TLS profile of its upstream calls (null: Bun's plain fetch, no setting). */
  tls?: { requested: string; in_use: string; native: boolean; reason?: string; impersonates?: string } | null;
}

export interface CredentialPoolStatus {
  total: number;
  usable: number;
  exhausted: number;
  bad: number;
  cooling: number;
  disabled: number;
  in_use: number;
}

/** One entry of a key-style credential pool (never the secret: `preview` is masked). */
export interface CredentialItem {
  id: string;
  preview: string;
  label: string;
  enabled: boolean;
  state: "ok" | "exhausted" | "bad" | "cooling" | "disabled" | string;
  state_reason: string;
  usage: number;
  max_usage: number;
  inflight: number;
  cooldown_until: number | null;
  last_used_at: number | null;
  last_error: string;
  has_own_auth: boolean;
}

export interface CredentialList {
  provider: string;
  entry_kind: string;
  items: CredentialItem[];
  total: number;
  status: CredentialPoolStatus;
}

export interface CredentialImport {
  success: boolean;
  added: number;
  updated: number;
  skipped: { entry: string; reason: string }[];
}

export interface CredentialTest {
  success: boolean;
  id: string;
  message: string;
  text?: string;
  response_time: number;
}

/** GET /admin/proxies item: the password is never sent back, only whether one is stored. */
export interface ProxyView {
  id: string;
  name: string;
  type: "http" | "https" | "socks5" | "socks5h" | string;
  host: string;
  port: number;
  username: string;
  has_password: boolean;
}

/** POST /admin/proxies/test answer. */
export interface ProxyTest {
  success: boolean;
  proxy_id: string;
  proxy_type: string;
  response_time: number;
  status_code?: number;
  message: string;
}

/** GET /admin/audit item (newest first). `at` is milliseconds or seconds since the epoch. */
export interface AuditItem {
  id: number;
  at: number;
  actor: string;
  address?: string;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
}
