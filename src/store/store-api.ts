/**
 * What the rest of the server sees of the store: the repositories with every method returning a promise, so one
 * interface fits bun:sqlite (promises already resolved: a microtask, no I/O) and Postgres (a round trip). Hot
 * paths read in-memory views refreshed by change events instead of awaiting the store per request.
 *
 * The method lists are derived from the repository classes, so a new repository method is part of the API at once.
 * `Keep` names pure helpers that stay synchronous (hashing, sealing, ids: no I/O).
 */
import type { AccountsRepo } from "./accounts-repo.ts";
import type { ApiKeysRepo } from "./api-keys-repo.ts";
import type { AuditRepo } from "./audit-repo.ts";
import type { ChatHistoryRepo } from "./chat-history-repo.ts";
import type { CredentialsRepo } from "./credentials-repo.ts";
import type { FilesRepo } from "./files-repo.ts";
import type { KeyUsageRepo } from "./key-usage-repo.ts";
import type { SettingsRepo } from "./settings-repo.ts";
import type { UsageHistoryRepo } from "./usage-history-repo.ts";

export type Async<T, Keep extends keyof T = never> = {
  [K in keyof T]: K extends Keep ? T[K] : T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K];
};

/** `get<T>` is generic, which a mapped type cannot keep: spelled out. */
export type AsyncSettings = Omit<Async<SettingsRepo, "conceal">, "get"> & { get<T>(key: string): Promise<T | undefined> };

export type StoreKind = "sqlite" | "postgres";

export interface StoreRepos {
  settings: AsyncSettings;
  apiKeys: Async<ApiKeysRepo, "hashOf">;
  accounts: Async<AccountsRepo>;
  keyUsage: Async<KeyUsageRepo>;
  audit: Async<AuditRepo>;
  credentials: Async<CredentialsRepo, "idFor">;
  files: Async<FilesRepo>;
  chatHistory: Async<ChatHistoryRepo>;
  /** `add` only buffers in memory (flushed every few seconds), so it stays synchronous. */
  usageHistory: Async<UsageHistoryRepo, "add">;
}

export interface StoreApi extends StoreRepos {
  readonly kind: StoreKind;
  /** Where it lives, for logs and /readyz: a file path, or the Postgres URL with its password masked. */
  readonly location: string;
  /** Run `fn` atomically: every write through `tx` lands, or none does. Store work only inside. */
  transaction<T>(fn: (tx: StoreRepos) => Promise<T>): Promise<T>;
  /** Write out buffered counters (usage buckets, write-behind use counts). */
  flush(): Promise<void>;
  /** Flush and close. Safe to call twice. */
  close(): Promise<void>;
  /** Run `fn` while holding the cluster-wide start-up lock (Postgres advisory lock); sqlite just runs it. */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
}
