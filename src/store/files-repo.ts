/**
 * Files uploaded through `POST /v1/files`: which upstream account holds each one (§7.2 [fix]), so a later
 * request that references the file is pinned to that account.
 */
import type { SqlExecutor } from "./sql/executor.ts";

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
  constructor(private readonly x: SqlExecutor) {}

  /** Record a file (a second put of the same id replaces it). */
  async put(f: StoredFile): Promise<void> {
    await this.x.run(
      `INSERT INTO uploaded_files (id, provider, account, caller, filename, bytes, media_type, purpose, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, account = excluded.account, caller = excluded.caller,
         filename = excluded.filename, bytes = excluded.bytes, media_type = excluded.media_type, purpose = excluded.purpose,
         created_at = excluded.created_at`,
      [f.id, f.provider, f.account ?? null, f.caller, f.filename, f.bytes, f.mediaType, f.purpose, f.createdAt],
    );
  }

  /** The file, when `caller` uploaded it (another caller's file is not found). */
  async get(id: string, caller: string): Promise<StoredFile | undefined> {
    const r = await this.x.get<FileRow>("SELECT * FROM uploaded_files WHERE id = ? AND caller = ?", [id, caller]);
    return r ? fromRow(r) : undefined;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.x.run("DELETE FROM uploaded_files WHERE id = ?", [id])).changes > 0;
  }
}
