/** The store: one sqlite file and its repositories. The only place that writes SQL is this folder. */
import type { Database } from "bun:sqlite";
import { AccountsRepo } from "./accounts-repo.ts";
import { ApiKeysRepo } from "./api-keys-repo.ts";
import { AuditRepo } from "./audit-repo.ts";
import { openDatabase } from "./database.ts";
import { KeyUsageRepo } from "./key-usage-repo.ts";
import { SettingsRepo } from "./settings-repo.ts";

export class Store {
  readonly settings: SettingsRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly accounts: AccountsRepo;
  readonly keyUsage: KeyUsageRepo;
  readonly audit: AuditRepo;

  constructor(readonly db: Database, readonly path: string) {
    this.settings = new SettingsRepo(db);
    this.apiKeys = new ApiKeysRepo(db);
    this.accounts = new AccountsRepo(db);
    this.keyUsage = new KeyUsageRepo(db);
    this.audit = new AuditRepo(db);
  }

  /** Run `fn` atomically: every write inside lands, or none does. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Checkpoint the WAL into the main file and close. Safe to call twice. */
  close(): void {
    try {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
    } catch {
      // already closed
    }
    this.db.close();
  }
}

export function openStore(path: string): Store {
  return new Store(openDatabase(path), path);
}
