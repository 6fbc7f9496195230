/** Shapes of the admin API answers the console reads (see notes/admin-contract.md). */

export interface AccountView {
  identifier: string;
  email?: string;
  mobile?: string;
  name?: string;
  remark?: string;
  proxy_id?: string;
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
  usage?: { requests?: number; prompt_tokens?: number; completion_tokens?: number; last_used_at?: number | string | null };
}

export interface RecentError {
  at: number | string;
  kind?: string;
  account?: string;
  message: string;
}
