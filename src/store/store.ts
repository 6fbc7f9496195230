/**
 * The store: the repositories over one `SqlExecutor` (bun:sqlite file, or Postgres), seen by the rest of the server
 * as `StoreApi`. The only place that writes SQL is this folder. Secrets are sealed / hashed inside the
 * repositories (src/store/secret-box.ts); callers see plain values.
 *
 * Transactions bind a fresh set of repositories to the transaction's executor, so every `tx.<repo>` call inside
 * lands atomically. Buffered counters (usage buckets; on Postgres also account uses and key usage, write-behind)
 * are shared by the root and the transaction repositories and written by `flush()` / `close()`; a count made inside a
 * transaction is therefore not rolled back with it (they are statistics, not state).
 */
import { AccountsRepo, accountUsesBuffer, type AccountUses } from "./accounts-repo.ts";
import { ApiKeysRepo } from "./api-keys-repo.ts";
import { AuditRepo } from "./audit-repo.ts";
import { ChatHistoryRepo } from "./chat-history-repo.ts";
import { CredentialsRepo } from "./credentials-repo.ts";
import type { SecretBox } from "./secret-box.ts";
import { KeyUsageRepo, keyUsageBuffer, type PendingKeyUsage } from "./key-usage-repo.ts";
import { FilesRepo } from "./files-repo.ts";
import { SettingsRepo } from "./settings-repo.ts";
import type { SqlExecutor } from "./sql/executor.ts";
import type { WriteBehind, WriteBehindErrorReport } from "./sql/write-behind.ts";
import type { StoreApi, StoreKind, StoreRepos } from "./store-api.ts";
import { UsageHistoryRepo } from "./usage-history-repo.ts";

/** What the opener knows about the database beside its executor. */
export interface StoreMeta {
  kind: StoreKind;
  /** A file path, or the Postgres URL with its password masked. */
  location: string;
  /** Postgres: the cluster-wide start-up advisory lock; sqlite: runs `fn`. */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Close the database (sqlite: checkpoint the WAL first). Called once, after the last flush. */
  close(): Promise<void>;
  /** A timed or closing write of buffered counters failed (the counts are kept for the next try). */
  onWriteError?: WriteBehindErrorReport;
  /** Test seam: how often the write-behind buffers are written (default 1 s). */
  writeBehindMs?: number;
}

/** The repositories, typed as the classes (which `StoreRepos` derives its async method lists from). */
export interface Repos extends StoreRepos {
  settings: SettingsRepo;
  apiKeys: ApiKeysRepo;
  accounts: AccountsRepo;
  keyUsage: KeyUsageRepo;
  audit: AuditRepo;
  credentials: CredentialsRepo;
  files: FilesRepo;
  chatHistory: ChatHistoryRepo;
  usageHistory: UsageHistoryRepo;
}

/** Shared by the root repositories and every transaction's. */
interface Buffers {
  usageHistory: UsageHistoryRepo;
  /** Postgres only (write-behind). */
  accountUses?: WriteBehind<AccountUses>;
  keyUsage?: WriteBehind<PendingKeyUsage>;
}

/** A set of repositories over `x` (the root executor, or a transaction's). */
export function reposOver(x: SqlExecutor, box: SecretBox, buffers: Buffers): Repos {
  return {
    settings: new SettingsRepo(x, box),
    apiKeys: new ApiKeysRepo(x, box),
    accounts: new AccountsRepo(x, box, buffers.accountUses),
    keyUsage: new KeyUsageRepo(x, buffers.keyUsage),
    audit: new AuditRepo(x),
    credentials: new CredentialsRepo(x, box),
    files: new FilesRepo(x),
    chatHistory: new ChatHistoryRepo(x),
    usageHistory: buffers.usageHistory,
  };
}

export class Store implements StoreApi, Repos {
  readonly kind: StoreKind;
  readonly location: string;
  readonly settings: SettingsRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly accounts: AccountsRepo;
  readonly keyUsage: KeyUsageRepo;
  readonly audit: AuditRepo;
  /** Key-style pools of the non-DeepSeek providers. */
  readonly credentials: CredentialsRepo;
  /** Files uploaded through /v1/files and the account holding each. */
  readonly files: FilesRepo;
  /** Recorded business turns (§12.6). */
  readonly chatHistory: ChatHistoryRepo;
  /** Requests, tokens and errors per time bucket (batched in memory, flushed every few seconds and on close). */
  readonly usageHistory: UsageHistoryRepo;
  private readonly buffers: Buffers;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly x: SqlExecutor,
    /** The key for secrets at rest (also seals what the cluster keeps in Redis: tokens). */
    readonly box: SecretBox,
    private readonly meta: StoreMeta,
  ) {
    this.kind = meta.kind;
    this.location = meta.location;
    const behind = x.dialect === "postgres";
    this.buffers = {
      usageHistory: new UsageHistoryRepo(x, undefined, undefined, meta.onWriteError),
      accountUses: behind ? accountUsesBuffer(x, meta.onWriteError, meta.writeBehindMs) : undefined,
      keyUsage: behind ? keyUsageBuffer(x, meta.onWriteError, meta.writeBehindMs) : undefined,
    };
    const r = reposOver(x, box, this.buffers);
    this.settings = r.settings;
    this.apiKeys = r.apiKeys;
    this.accounts = r.accounts;
    this.keyUsage = r.keyUsage;
    this.audit = r.audit;
    this.credentials = r.credentials;
    this.files = r.files;
    this.chatHistory = r.chatHistory;
    this.usageHistory = r.usageHistory;
  }

  /** Run `fn` atomically: every write through `tx` lands, or none does. Store work only inside (no network I/O). */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return this.x.transaction((tx) => fn(reposOver(tx, this.box, this.buffers)));
  }

  /** Per-request counts waiting in the write-behind buffers (Postgres; always 0 on sqlite, which writes at once). */
  writeBehindBacklog(): number {
    return (this.buffers.accountUses?.size ?? 0) + (this.buffers.keyUsage?.size ?? 0);
  }

  /** Write the buffered counters now (usage buckets, write-behind use counts). Rejects when a write fails. */
  async flush(): Promise<void> {
    await this.buffers.usageHistory.flush();
    await this.buffers.accountUses?.flush();
    await this.buffers.keyUsage?.flush();
  }

  /** Flush and close. Safe to call twice (the second call waits for the first). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        try {
          await this.buffers.usageHistory.close();
        } catch (e) {
          this.meta.onWriteError?.("usage history", e);
        }
        await this.buffers.accountUses?.close();
        await this.buffers.keyUsage?.close();
      } finally {
        await this.meta.close();
      }
    })();
    return this.closing;
  }

  withStartupLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.meta.withStartupLock(fn);
  }
}
