/** Reading DeepSeek's file objects tolerantly (§2.7, §2.8). */

export interface UploadedFile {
  id: string;
  name?: string;
  /** Upper-cased status, e.g. PENDING, SUCCESS, FAILED. */
  status: string;
  size?: number;
  tokenUsage?: number;
  raw: Record<string, unknown>;
}

const READY = new Set(["processed", "ready", "done", "available", "success", "completed", "finished"]);
const PENDING = new Set(["pending", "processing", "parsing", "uploading", "queued", "wip", "in_progress", ""]);

export function isFileReady(status: string): boolean {
  return READY.has(status.toLowerCase());
}

export function isFilePending(status: string): boolean {
  return PENDING.has(status.toLowerCase());
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function str(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof o[k] === "string") return o[k] as string;
  return undefined;
}

function num(o: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) if (typeof o[k] === "number") return o[k] as number;
  return undefined;
}

export function toUploadedFile(o: Record<string, unknown>): UploadedFile | undefined {
  const id = str(o, "id", "file_id");
  if (!id) return undefined;
  return {
    id,
    name: str(o, "name", "filename", "file_name"),
    status: (str(o, "status", "file_status") ?? "").toUpperCase(),
    size: num(o, "bytes", "size", "file_size"),
    tokenUsage: num(o, "token_usage"),
    raw: o,
  };
}

/** The file object of an upload response: in biz_data itself or a nested `file` / `data` / `biz_data`. */
export function fileFromUploadData(bizData: unknown): UploadedFile | undefined {
  if (!isObj(bizData)) return undefined;
  const direct = toUploadedFile(bizData);
  if (direct) return direct;
  for (const k of ["file", "data", "biz_data"]) {
    const nested = bizData[k];
    if (isObj(nested)) {
      const f = toUploadedFile(nested);
      if (f) return f;
    }
  }
  return undefined;
}

/** Searches any JSON for an object whose `id` or `file_id` is `id` (fetch_files nesting is not relied on). */
export function findFileById(json: unknown, id: string): UploadedFile | undefined {
  if (Array.isArray(json)) {
    for (const x of json) {
      const f = findFileById(x, id);
      if (f) return f;
    }
    return undefined;
  }
  if (!isObj(json)) return undefined;
  if (json.id === id || json.file_id === id) return toUploadedFile(json);
  for (const v of Object.values(json)) {
    if (v && typeof v === "object") {
      const f = findFileById(v, id);
      if (f) return f;
    }
  }
  return undefined;
}

/** Basename with `\` and `"` replaced (§2.7); "upload.bin" when empty. */
export function safeUploadName(name: string | undefined): string {
  const base = (name ?? "").split("/").pop() ?? "";
  const cleaned = base.replace(/[\\"]/g, "_");
  return cleaned || "upload.bin";
}
