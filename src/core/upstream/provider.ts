/**
 * The provider-neutral upstream contract: what core asks of an upstream (DeepSeek web chat today, others
 * later) and what it gets back. Concrete providers live in src/upstream/<provider>/ and implement
 * `UpstreamProvider`; core, the client surfaces, admin and health reach them only through this contract
 * (and the `ProviderRegistry`), never by importing a provider folder.
 */
import type { ModelSpec, UpstreamModelType } from "../models/native.ts";
import type { CanonicalMessage } from "../prompt/message.ts";

/** The file name and type an attached transcript goes under (the live prompt refers to it by this name). */
export { HISTORY_FILE_CONTENT_TYPE as TRANSCRIPT_CONTENT_TYPE, HISTORY_FILE_NAME as TRANSCRIPT_FILE_NAME } from "../prompt/history-file.ts";

/** A provider's id, also `ModelSpec.provider` (e.g. "deepseek"). */
export type ProviderId = string;

/** A web-search source the upstream reported. */
export interface SearchSource {
  url: string;
  title?: string;
  /** The upstream's own numeric index of the source, when it has one (DeepSeek: `cite_index`). */
  citeIndex?: number;
}

/**
 * What a provider's `run` yields. Text is never trimmed: whitespace-only pieces are content.
 * Provider-specific frames (ids, status frames, titles) map onto `progress` or are dropped by the provider.
 */
export type UpstreamEvent =
  /** A sign of life without content (the upstream accepted the turn, a status frame, a title). */
  | { type: "progress"; what: string }
  /** Reasoning text. */
  | {
      type: "reasoning";
      text: string;
      /** True when the piece came from a full-state snapshot (e.g. a replay at the start of a continue round). */
      snapshot?: boolean;
    }
  /** Answer text; citation markers (e.g. `[citation:N]`) are kept verbatim. */
  | { type: "text"; text: string; /** See `reasoning.snapshot`. */ snapshot?: boolean }
  /** Search sources discovered in the stream, in order of first appearance (deduplicated by URL). */
  | { type: "sources"; sources: SearchSource[] }
  /** A citation marker that appeared in the answer text, linked to its source when known. */
  | { type: "citation"; marker: string; index: number; source?: SearchSource }
  /** Output tokens the upstream reported so far. */
  | { type: "usage"; outputTokens: number }
  /** The upstream moderated the answer; nothing after it may be shown. */
  | { type: "content_filter" }
  /** An in-stream error frame. */
  | { type: "error"; message: string; code?: number | string };

/** What a provider is asked to run: one upstream turn for a built prompt. */
export interface UpstreamTurn {
  /** The resolved model (its `provider` is the provider running the turn; provider-specific fields ride along). */
  model: ModelSpec;
  /** The flattened prompt (DSML tool prompt included): every provider gets it. */
  prompt: string;
  /** The canonical messages, for providers whose `input` is "messages". */
  messages?: CanonicalMessage[];
  /** The conversation transcript to attach (only for providers with `acceptsTranscript`); the prompt then only points at it. */
  transcript?: string;
  thinking: boolean;
  /** Sampling fields copied to the upstream payload as given. */
  passthrough: Record<string, unknown>;
  callerId: string;
  /** A caller's own upstream token (direct-token mode). */
  directToken?: string;
  /** X-Ds2-Target-Account. */
  pinnedAccount?: string;
  /** Images / files to upload with the serving account's token and reference in this turn (providers with `files`). */
  attachments?: TurnAttachment[];
  /** Files uploaded earlier on the pinned account (`POST /v1/files`), referenced as they are. */
  refFileIds?: string[];
  /** The turn carries an image: the provider picks its vision variant. */
  vision?: boolean;
  /** True when the caller already has its answer although no text came (a tool call written in the reasoning): no empty-output retry. */
  answered?: () => boolean;
  /** Dev capture: told about every upstream exchange and its raw response bytes (providers with `rawCapture`). */
  tap?: RawStreamTap;
}

/** One upstream exchange as the dev capture sees it (§12.7). Never holds a password, token or other credential. */
export interface RawExchangeInfo {
  /** e.g. `deepseek_completion`, `deepseek_continue`. */
  label: string;
  url: string;
  statusCode: number;
  /** The upstream request body without credentials (the prompt included). */
  requestBody: Record<string, unknown>;
  account?: string;
  /** The provider's conversation id (chains a completion with its continues). */
  sessionId?: string;
}

/** Receives the raw bytes of a turn's upstream responses, exchange by exchange. */
export interface RawStreamTap {
  exchange(info: RawExchangeInfo): void;
  chunk(bytes: Uint8Array): void;
}

/** How a turn ended (the generator's return value). */
export interface UpstreamOutcome {
  contentFiltered: boolean;
  /** The upstream stopped while the answer was still incomplete (e.g. a continue cap was hit). */
  truncated: boolean;
  /** Both the first attempt and the empty-output retry showed nothing. */
  empty: boolean;
  /** Only reasoning came back (for the error text). */
  reasoningOnly: boolean;
  account?: string;
}

/**
 * Told about every upstream error a provider meets (metrics, /readyz, admin "recent errors"). Providers call
 * it with three arguments; the registry adds the id of the provider that met the error.
 */
export type UpstreamErrorListener = (kind: string, account: string | undefined, message: string, provider?: ProviderId) => void;

/** An attachment's bytes, checked and ready to upload. */
export interface TurnAttachment {
  kind: "image" | "file";
  data: Uint8Array;
  filename: string;
  mediaType: string;
}

// ---- optional capabilities --------------------------------------------------------------------

/** Account pool status (same fields for every pooled provider). */
export interface AccountPoolStatus {
  total: number;
  enabled: number;
  usableNow: number;
  coolingDown: number;
  failing: number;
  disabled: number;
  inUse: number;
  available: number;
  waiting: number;
  maxQueue: number;
  maxInflightPerAccount: number;
  globalMaxInflight: number;
  recommendedConcurrency: number;
  accounts: { identifier: string; inflight: number; status: string; cooldownUntil?: number }[];
}

/** The effective pool limits (env, runtime settings, defaults). */
export interface AccountPoolSettings {
  maxInflightPerAccount: number;
  maxQueue: number;
  globalMaxInflight: number;
  tokenRefreshMs: number;
  minIntervalMs: number;
  dailyCap: number;
  cooldownMs: number;
}

export type AccountFailureKind = "rate_limited" | "auth" | "upstream" | "login" | "proxy";

/** A stored account as the admin test hands it over. */
export interface AccountCredentials {
  identifier: string;
  email?: string;
  mobile?: string;
  password?: string;
}

/** The result of an admin account test: success, or the stage that failed with a message free of secrets. */
export type AccountTestOutcome =
  | { ok: true; sessionCount: number; text: string; thinking?: string }
  | { ok: false; stage: string; message: string };

/** Account-pool admin hooks of a provider that serves through a pool of stored accounts. */
export interface AccountAdmin {
  status(): AccountPoolStatus;
  settings(): AccountPoolSettings;
  inflightOf(identifier: string): number;
  /** The promise, when there is one, settles once the state is stored (admin callers await it before they answer). */
  markHealthy(identifier: string): void | Promise<void>;
  markFailing(identifier: string, kind: AccountFailureKind, message: string): void | Promise<void>;
  /**
   * A fresh login (the token is stored), a new session, the session count and, with `message`, one
   * completion — bypassing the pool and its in-flight limits.
   */
  test(account: AccountCredentials, model: ModelSpec, message?: string): Promise<AccountTestOutcome>;
  /** Delete every chat session the account holds upstream (a fresh login; the token is stored). Absent: the provider keeps no remote sessions. */
  deleteSessions?(account: AccountCredentials): Promise<AccountSessionsOutcome>;
  /**
   * Re-read just these accounts from the store (they were added, changed or deleted); a promise when the re-read
   * is async (done when the next request sees them). Absent: the provider reloads.
   */
  refresh?(identifiers: readonly string[]): void | Promise<void>;
}

/** The result of deleting an account's upstream sessions: the stage that failed and a message free of secrets otherwise. */
export type AccountSessionsOutcome = { ok: true } | { ok: false; stage: string; message: string };

/** A file held upstream, as the files API shows it. */
export interface UpstreamFile {
  id: string;
  filename: string;
  bytes: number;
  /** processed (ready), pending, or error. */
  status: "processed" | "pending" | "error";
  /** The pooled account that holds it (absent in direct-token mode). */
  account?: string;
}

export interface FileUploadRequest {
  data: Uint8Array;
  filename: string;
  mediaType: string;
  /** The model variant the file is for (an image for the vision model: "vision"). */
  modelType: UpstreamModelType;
  callerId: string;
  directToken?: string;
  /** Upload through this account (X-Ds2-Target-Account). */
  pinnedAccount?: string;
}

/**
 * File uploads of a provider whose turns can reference uploaded files (and take `UpstreamTurn.attachments`).
 * Failures are TurnErrors (pool errors as for turns; an upstream failure is 500 "Failed to upload file.").
 */
export interface FileUploadAdmin {
  /** Upload through a pooled account (or the caller's token), waiting until the file is parsed. */
  upload(req: FileUploadRequest, signal?: AbortSignal): Promise<UpstreamFile>;
  /** Ask the account that holds the file about it; undefined = not found. */
  get(id: string, where: { account?: string; directToken?: string }, signal?: AbortSignal): Promise<UpstreamFile | undefined>;
}

/** Outbound proxy hooks (the stored proxies are shared settings; the provider holds their live bridges). */
export interface ProxyAdmin {
  /** Drop the live bridges of proxies that are no longer configured. */
  retain(ids: ReadonlySet<string>): void;
}

/** The TLS profile a provider's upstream calls present: asked for, in use, and why they differ (a failed native load). */
export interface TransportView {
  requested: string;
  in_use: string;
  native: boolean;
  reason?: string;
  /** The real client whose ClientHello the native transport sends (e.g. okhttp4, chrome142). */
  impersonates?: string;
}

/** The client identity a provider presents upstream (app name, version, ...), for the admin settings view. */
export interface ClientIdentityView {
  appName?: string;
  version?: string;
  platform?: string;
  apiLevel?: number;
  locale?: string;
  /** Sent with login; the admin view shows it masked. */
  deviceId?: string;
}

/** One entry of a key-style credential pool (a Volcengine web id, an OnDemand API key) as the admin API shows it: never the secret. */
export interface CredentialView {
  id: string;
  /** The masked secret (`ab****yz`). */
  preview: string;
  label?: string;
  enabled: boolean;
  /** ok, exhausted (max usage reached), bad (rejected upstream), cooling (resting after failures), disabled. */
  state: "ok" | "exhausted" | "bad" | "cooling" | "disabled";
  stateReason?: string;
  usage: number;
  /** The effective cap (0 = unlimited). */
  maxUsage: number;
  inflight: number;
  cooldownUntil?: number;
  lastUsedAt?: number;
  lastError?: string;
  /** A per-entry authorization is set (its value is never shown). */
  hasOwnAuth?: boolean;
}

/** One entry to add: the secret, with optional per-entry settings. */
export interface CredentialEntryInput {
  secret: string;
  /** A per-entry authorization (providers that have one). */
  auth?: string;
  label?: string;
  /** Per-entry cap (0 = unlimited); absent = the provider-wide setting. */
  maxUsage?: number;
}

export interface CredentialImportResult {
  added: number;
  updated: number;
  /** Entries that were not taken, with why (never echoing a secret in full). */
  skipped: { entry: string; reason: string }[];
}

export interface CredentialPoolStatus {
  total: number;
  usable: number;
  exhausted: number;
  bad: number;
  cooling: number;
  disabled: number;
  inUse: number;
}

/**
 * Admin hooks of a provider that serves through a key-style credential pool. Reads and writes go to the store
 * (async). Each write is atomic on its own (its own transaction where it takes several statements) and has
 * refreshed the pool's in-memory view when it resolves, so the next request sees it; call them outside any store
 * transaction. `status()` stays synchronous (metrics, /readyz): it reads that view.
 */
export interface CredentialPoolAdmin {
  /** What one entry is, for labels: "web_id", "api_key". */
  readonly entryKind: string;
  list(): Promise<CredentialView[]>;
  add(entries: CredentialEntryInput[]): Promise<CredentialImportResult>;
  /** Bulk import of a provider-specific document (e.g. Volcengine's webids.json layouts, or one secret a line). */
  importText(text: string): Promise<CredentialImportResult>;
  update(id: string, fields: { label?: string | null; maxUsage?: number | null }): Promise<boolean>;
  setEnabled(id: string, enabled: boolean): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  /** Usage back to 0 for one entry or all; exhausted entries become usable. Returns how many were reset. */
  resetUsage(id?: string): Promise<number>;
  /** One small real request with this entry, bypassing the pool's selection. */
  test(id: string): Promise<{ ok: boolean; message: string; text?: string }>;
  status(): CredentialPoolStatus;
}

/** Proof-of-work solver statistics of a provider that solves upstream challenges (DeepSeek), for /metrics. */
export interface ProofOfWorkStats {
  workers: number;
  solves: number;
  /** Solves that scanned the whole range without an answer. */
  unsolved: number;
  lastMs: number | null;
  avgMs: number | null;
  inFlight: number;
}

export interface ProviderStatus {
  id: ProviderId;
  models: number;
  accounts?: AccountPoolStatus;
  credentials?: CredentialPoolStatus;
}

// ---- the contract -----------------------------------------------------------------------------

export interface UpstreamProvider {
  readonly id: ProviderId;
  /** Shown to people (admin, logs). */
  readonly displayName: string;
  /** The models it serves (each with `provider === id`). */
  models(): readonly ModelSpec[];
  /**
   * Whether it has what it needs to serve (credentials, a URL). An unconfigured provider stays registered (so
   * the admin API can add credentials to it) but its models are not listed and its turns answer 503. Absent = true.
   */
  configured?(): boolean;
  /**
   * How to configure it, said in the 503 an unconfigured provider's models answer (e.g. "set VOLCENGINE_X_WEB_ID,
   * the "volcengine" section of config.json, or add web ids in the admin console"). Absent = a generic hint.
   */
  setupHint?(): string;
  /** "prompt": one flattened prompt string; "messages": the message list (the prompt is still built). */
  readonly input: "prompt" | "messages";
  /** "text": tools go in the prompt as DSML and calls are read back from the text by the sieve. */
  readonly toolCalls: "text";
  /** Whether a long conversation may go as an attached transcript (`UpstreamTurn.transcript`). */
  readonly acceptsTranscript: boolean;
  /** One turn; yields events and returns how it ended. Failures are TurnErrors. */
  run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome>;
  /** Subscribe to the upstream errors it meets. */
  onUpstreamError(listener: UpstreamErrorListener): void;
  status(): ProviderStatus;
  /** Re-read accounts, proxies and settings from the store; a promise when the re-read is async (done when requests see it). */
  reload(): void | Promise<void>;
  /**
   * Re-read the credential pool's in-memory copy from the store (on `credentials.changed`): these entry ids, or all of
   * them when absent. Providers without a key-style pool leave it out.
   */
  reloadCredentials?(ids?: readonly string[]): Promise<void>;
  /** Start background warm-up work (readiness does not wait for it). */
  warmup?(): void;
  close(): Promise<void>;
  /** Optional capabilities. */
  readonly accounts?: AccountAdmin;
  readonly credentials?: CredentialPoolAdmin;
  readonly proxies?: ProxyAdmin;
  /** Uploads, and turns that carry attachments; absent = images and files are refused with a 400. */
  readonly files?: FileUploadAdmin;
  identity?(): ClientIdentityView;
  /** The TLS profile of its upstream calls (absent: Bun's plain fetch). */
  transport?(): TransportView;
  /** Proof-of-work solver statistics, for providers that solve challenges (undefined while no pool runs). */
  powStats?(): ProofOfWorkStats | undefined;
  /** Honours `UpstreamTurn.tap` (raw stream capture, §12.7). */
  readonly rawCapture?: boolean;
}
