/** Reads an attachment given as a URL: `data:` URLs decoded, http(s) URLs fetched with a size cap and a timeout. */
import { HttpError } from "../http-error.ts";
import { bareMediaType, FETCH_TIMEOUT_MS, MAX_ATTACHMENT_BYTES } from "./attachment-limits.ts";
import { checkAttachmentHost } from "./url-guard.ts";

/** Redirect hops followed for an attachment URL (each one checked like the first). */
const MAX_REDIRECTS = 5;

export interface FetchedBytes {
  data: Uint8Array;
  /** As the source declared it (data URL type, Content-Type), lower case without parameters; "" when unknown. */
  mediaType: string;
  /** The URL path's last segment, when there is one. */
  filename?: string;
}

export function tooLarge(what: string, limit = MAX_ATTACHMENT_BYTES): HttpError {
  return new HttpError(413, `${what} is larger than the ${Math.round(limit / (1024 * 1024))} MiB limit per attachment`, "attachment_too_large");
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Strict-enough base64 (standard or URL-safe, whitespace ignored) with the size checked before decoding. */
export function decodeBase64(data: string, what: string): Uint8Array {
  const clean = data.replace(/\s+/g, "");
  if (Math.floor((clean.length * 3) / 4) > MAX_ATTACHMENT_BYTES + 3) throw tooLarge(what);
  if (!BASE64.test(clean)) throw new HttpError(400, `${what} is not valid base64`, "invalid_attachment");
  const bytes = new Uint8Array(Buffer.from(clean, clean.includes("-") || clean.includes("_") ? "base64url" : "base64"));
  if (bytes.length > MAX_ATTACHMENT_BYTES) throw tooLarge(what);
  if (bytes.length === 0) throw new HttpError(400, `${what} is empty`, "invalid_attachment");
  return bytes;
}

function decodeDataUrl(url: string, what: string): FetchedBytes {
  const comma = url.indexOf(",");
  if (comma < 0) throw new HttpError(400, `${what} is not a valid data URL`, "invalid_attachment");
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const mediaType = bareMediaType(meta.split(";")[0]);
  if (/;base64$/i.test(meta)) return { data: decodeBase64(payload, what), mediaType };
  let text: string;
  try {
    text = decodeURIComponent(payload);
  } catch {
    throw new HttpError(400, `${what} is not a valid data URL`, "invalid_attachment");
  }
  const data = new TextEncoder().encode(text);
  if (data.length > MAX_ATTACHMENT_BYTES) throw tooLarge(what);
  return { data, mediaType };
}

async function fetchHttp(first: URL, what: string, signal: AbortSignal, allowPrivate: boolean): Promise<FetchedBytes> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let url = first;
  let res: Response;
  for (let hop = 0; ; hop++) {
    await checkAttachmentHost(url, what, allowPrivate);
    try {
      res = await fetch(url, { signal: AbortSignal.any([signal, timeout]), redirect: "manual" });
    } catch (e) {
      if (signal.aborted) throw e;
      const why = timeout.aborted ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : "the server could not be reached";
      throw new HttpError(400, `${what} could not be fetched: ${why}`, "attachment_fetch_failed");
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!location) break;
    await res.body?.cancel().catch(() => {});
    if (hop >= MAX_REDIRECTS) throw new HttpError(400, `${what} could not be fetched: more than ${MAX_REDIRECTS} redirects`, "attachment_fetch_failed");
    url = new URL(location, url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new HttpError(400, `${what} redirects to a URL that is not http(s)`, "invalid_attachment");
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new HttpError(400, `${what} could not be fetched: the server answered HTTP ${res.status}`, "attachment_fetch_failed");
  }
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > MAX_ATTACHMENT_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(what);
  }
  const pieces: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      if (!reader) break;
      const r = await reader.read();
      if (r.done) break;
      total += r.value.byteLength;
      if (total > MAX_ATTACHMENT_BYTES) {
        await reader.cancel().catch(() => {});
        throw tooLarge(what);
      }
      pieces.push(r.value);
    }
  } catch (e) {
    if (e instanceof HttpError || signal.aborted) throw e;
    throw new HttpError(400, `${what} could not be fetched: ${timeout.aborted ? "too slow" : "the download broke off"}`, "attachment_fetch_failed");
  }
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    data.set(p, at);
    at += p.byteLength;
  }
  if (data.length === 0) throw new HttpError(400, `${what} is empty`, "invalid_attachment");
  const name = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  return { data, mediaType: bareMediaType(res.headers.get("content-type")), filename: name || undefined };
}

export async function readAttachmentUrl(raw: string, what: string, signal: AbortSignal, allowPrivate = false): Promise<FetchedBytes> {
  const url = raw.trim();
  if (/^data:/i.test(url)) return decodeDataUrl(url, what);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpError(400, `${what} must be a data: URL or an http(s) URL`, "invalid_attachment");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new HttpError(400, `${what} must be a data: URL or an http(s) URL`, "invalid_attachment");
  return fetchHttp(parsed, what, signal, allowPrivate);
}
