import { VERSION } from "../version.ts";

export const HELP = `ds2api ${VERSION} — OpenAI / Anthropic / Gemini compatible gateway to DeepSeek web chat

Usage:
  ds2api [options]              start the server
  ds2api --simulate             start with built-in DeepSeek and Volcengine simulators, demo credentials and a demo API key
  ds2api pow [--repeat N]       solve a PoW challenge JSON read from stdin (debugging)
  ds2api sim [--port N]         run the DeepSeek upstream simulator alone
  ds2api migrate --to postgres://… [--db PATH] [--force]
                                copy this sqlite store into Postgres, for several instances (docs/DEPLOY.md)
  ds2api healthcheck            exit 0 when the local server answers /healthz (container health check)
  ds2api --version | --help

Options (flags win over environment variables):
  --port N          listen port                      env PORT (default 5001)
  --host ADDR       listen address                   env HOST (default 0.0.0.0)
  --db PATH         sqlite file                      env DS2API_DB_PATH (default ./data/ds2api.sqlite)
  --config PATH     ds2api config.json to import     env DS2API_CONFIG_PATH (default ./config.json when present)
  --log-level L     debug | info | warn | error      env LOG_LEVEL (default info)

Other environment variables:
  DS2API_ADMIN_KEY            admin secret (a random one is generated and printed once when unset)
  DS2API_CONFIG_JSON          config JSON inline, or base64 of it
  DS2API_DEEPSEEK_BASE_URL    upstream origin (default https://chat.deepseek.com)
  DS2API_TLS_PROFILE          upstream TLS fingerprint: okhttp (default), chrome, firefox, safari, plain
  ONDEMAND_APIKEYS            OnDemand API keys, comma-separated (added to the key pool at start)
  ONDEMAND_API_BASE           OnDemand Chat API base (default https://api.on-demand.io/chat/v1)
  DS2API_ACCOUNT_MAX_INFLIGHT per-account concurrent requests (default 2)
  DS2API_ACCOUNT_MAX_QUEUE    waiting requests (default accounts × per-account limit)
  DS2API_GLOBAL_MAX_INFLIGHT  global concurrent cap (default accounts × per-account limit)
  DS2API_POW_WORKERS          proof-of-work worker threads (default CPU cores)
  DS2API_ALLOW_DIRECT_TOKEN   true: an unknown credential is used as a DeepSeek token (off by default)
  DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS  true: image/file URLs may point at loopback or private addresses (off by default)
  DS2API_OLLAMA_LOOPBACK_OPEN true: Ollama /api/chat and /api/generate need no key from 127.0.0.1 / ::1 (off by default)
  DS2API_MAX_BODY_MB          body limit in MiB of chat / messages / generateContent / responses (default 100)
  DS2API_MAX_SMALL_BODY_MB    body limit in MiB of every other route (default 4)
  DS2API_MAX_PROMPT_CHARS     longest conversation in characters (default 4000000)
  DS2API_BODY_TIMEOUT_SECONDS a request body must arrive within this time (default 30)
  DS2API_IDLE_TIMEOUT_SECONDS idle keep-alive connections are closed after this (default 60)
  DS2API_JWT_SECRET           secret for admin console sessions (default: random, kept encrypted in the database)
  DS2API_SECRET_KEY           key for secrets in the database: 32 bytes base64/hex or a passphrase (default: <db>.key file)
  DS2API_DATABASE_URL         postgres://… : the store on Postgres instead of sqlite (several instances; docs/DEPLOY.md)
  DS2API_REDIS_URL            redis://… : coordinate several instances (leases, logins, quotas, responses, change events)
  DS2API_REDIS_PREFIX         prefix of every Redis key (default ds2api:)
  DS2API_INSTANCE_ID          this instance's name in logs, /readyz and the heartbeat (default hostname:pid)
  DS2API_CLUSTER_LEASE_TTL_SECONDS  lifetime of an account lease nobody renews (default 30)
  DS2API_DEPENDENCY_START_TIMEOUT_SECONDS  how long a start waits for Postgres / Redis (default 60)
  DS2API_TRUSTED_PROXIES      reverse proxies (IPs/CIDRs) whose X-Forwarded-For / X-Real-IP are believed
  DS2API_METRICS_PUBLIC       true: /metrics without the admin key (default false)
  DS2API_SHUTDOWN_TIMEOUT_SECONDS  how long SIGTERM waits for in-flight streams (default 30)
  DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS  connect + headers of one DeepSeek call (default 20)
  DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS    upstream silence that ends a turn; comments do not count (default 120)
  DS2API_TURN_TIMEOUT_SECONDS             longest a whole turn may take (default 900)
  DS2API_MAX_ACCOUNT_ATTEMPTS             accounts one request may try (default 3)
  DS2API_QUEUE_WAIT_SECONDS               longest wait for an account before 429 / 503 (default 30)
  DS2API_PROMPT_MARKERS       prompt role markers when prompt.markers is unset: native, ascii, plain (default native)
  VOLCENGINE_API_URL          Volcengine Ark console Chat URL (default .../ark/bff/api/cn-beijing/2024-01-29/Chat)
  VOLCENGINE_X_WEB_ID         Volcengine web id(s), comma-separated (seed the web-id pool)
  VOLCENGINE_AUTHORIZATION    the console's authorization header (global; a web id may have its own)
`;
