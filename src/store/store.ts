/**
 * The store: one sqlite file and its repositories. The only place that writes SQL is this folder.
 * Secrets are sealed / hashed inside the repositories (src/store/secret-box.ts); callers see plain values.
 */
import type { Database } from "bun:sqlite";
import { AccountsRepo } from "./accounts-repo.ts";
import { ApiKeysRepo } from "./api-keys-repo.ts";
import { AuditRepo } from "./audit-repo.ts";
import { ChatHistoryRepo } from "./chat-history-repo.ts";
import { CredentialsRepo } from "./credentials-repo.ts";
import type { SecretBox } from "./secret-box.ts";
import { KeyUsageRepo } from "./key-usage-repo.ts";
import { FilesRepo } from "./files-repo.ts";
import { SettingsRepo } from "./settings-repo.ts";
import { UsageHistoryRepo } from "./usage-history-repo.ts";

export class Store {
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

  constructor(readonly db: Database, readonly path: string, box: SecretBox) {
    this.settings = new SettingsRepo(db, box);
    this.apiKeys = new ApiKeysRepo(db, box);
    this.accounts = new AccountsRepo(db, box);
    this.keyUsage = new KeyUsageRepo(db);
    this.audit = new AuditRepo(db);
    this.credentials = new CredentialsRepo(db, box);
    this.files = new FilesRepo(db);
    this.chatHistory = new ChatHistoryRepo(db);
    this.usageHistory = new UsageHistoryRepo(db);
  }

  /** Run `fn` atomically: every write inside lands, or none does. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Checkpoint the WAL into the main file and close. Safe to call twice. */
  close(): void {
    try {
      this.usageHistory.close();
    } catch {
      // already closed
    }
    try {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    } catch {
      // already closed
    }
    this.db.close();
  }
}
