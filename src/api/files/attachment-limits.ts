/** What a chat request may attach (images and documents inside messages), and the media types each kind takes. */

/** Attachments per request (inline and by file id together). */
export const MAX_ATTACHMENTS = 10;
/** Bytes per inline attachment (decoded base64, data URL or fetched URL). */
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;
/** An http(s) attachment URL must answer within this long. */
export const FETCH_TIMEOUT_MS = 15_000;

export const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"]);

const FILE_TYPES = new Set([
  "application/pdf",
  "application/json",
  "application/xml",
  "application/msword",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.ms-excel",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/epub+zip",
  "application/x-yaml",
  "application/yaml",
]);

/** Documents: the listed types, any `text/*`, and the image types (an image sent as a file is still an image). */
export function isAcceptedFileType(mediaType: string): boolean {
  return FILE_TYPES.has(mediaType) || mediaType.startsWith("text/") || IMAGE_TYPES.has(mediaType);
}

/** `image/png; charset=x` → `image/png`. */
export function bareMediaType(value: string | null | undefined): string {
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

/** The media type from the first bytes, for sources that do not say (PNG, JPEG, GIF, WebP, BMP, PDF). */
export function sniffMediaType(b: Uint8Array): string | undefined {
  const at = (i: number, ...bytes: number[]) => bytes.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (at(0, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "image/webp";
  if (at(0, 0x42, 0x4d)) return "image/bmp";
  if (at(0, 0x25, 0x50, 0x44, 0x46)) return "application/pdf";
  return undefined;
}

const EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/bmp": "bmp",
  "application/pdf": "pdf",
  "text/plain": "txt",
  "text/markdown": "md",
  "text/csv": "csv",
  "application/json": "json",
};

/** A name for an attachment that came without one. */
export function defaultFilename(kind: "image" | "file", mediaType: string, index: number): string {
  return `${kind}-${index + 1}.${EXT[mediaType] ?? "bin"}`;
}
