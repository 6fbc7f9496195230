/**
 * Files uploaded through `POST /v1/files`: which upstream account holds each one (§7.2 [fix]), so a later
 * request that references the file is pinned to that account.
 */
import type { Database } from "bun:sqlite";

export interface StoredFile {
  id: string;
  provider: string;
  /** The pooled account that holds it; undefined = uploaded with a caller's own token. */
  account?: string;
  /** The caller that uploaded it (its stable id, never a credential): only it may read or reference the file. */
  caller: string;
  filename: string;
  bytes: number;
  mediaType: string;
  purpose: string;
  /** Unix seconds. */
  createdAt: number;
}

interface FileRow {
  id: string;
  provider: string;
  account: string | null;
  caller: string;
  filename: string;
  bytes: number;
  media_type: string;
  purpose: string;
  created_at: number;
}

function fromRow(r: FileRow): StoredFile {
  return {
    id: r.id,
    provider: r.provider,
    account: r.account ?? undefined,
    caller: r.caller,
    filename: r.filename,
    bytes: r.bytes,
    mediaType: r.media_type,
    purpose: r.purpose,
    createdAt: r.created_at,
  };
}

export class FilesRepo {
  constructor(private readonly db: Database) {}

  put(f: StoredFile): void {
    this.db
      .query(
        `INSERT OR REPLACE INTO uploaded_files (id, provider, account, caller, filename, bytes, media_type, purpose, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(f.id, f.provider, f.account ?? null, f.caller, f.filename, f.bytes, f.mediaType, f.purpose, f.createdAt);
  }

  /** The file, when `caller` uploaded it (another caller's file is not found). */
  get(id: string, caller: string): StoredFile | undefined {
    const r = this.db.query<FileRow, [string, string]>("SELECT * FROM uploaded_files WHERE id = ? AND caller = ?").get(id, caller);
    return r ? fromRow(r) : undefined;
  }

  remove(id: string): boolean {
    return this.db.query("DELETE FROM uploaded_files WHERE id = ?").run(id).changes > 0;
  }
}
