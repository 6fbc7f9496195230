/**
 * Before a turn runs: the images and documents in its messages become checked bytes (`attachments`, uploaded
 * by the provider with the serving account) and file-id references (`refFileIds`), and a referenced file pins
 * the turn to the account that holds it (api-surface §7.2 [fix]). Limits on count, size and media type give
 * 400 / 413 in the surface's shape; nothing is uploaded until all of them pass.
 */
import type { Attachment } from "../../core/prompt/message.ts";
import type { TurnRequest } from "../../core/turn/turn.ts";
import type { TurnAttachment } from "../../core/upstream/provider.ts";
import type { AppContext } from "../../context.ts";
import type { Caller } from "../caller.ts";
import { HttpError } from "../http-error.ts";
import { bareMediaType, defaultFilename, IMAGE_TYPES, isAcceptedFileType, MAX_ATTACHMENTS, sniffMediaType } from "./attachment-limits.ts";
import { decodeBase64, readAttachmentUrl } from "./fetch-attachment.ts";

function notSupported(provider: string): HttpError {
  return new HttpError(400, `images/files are not supported by provider ${provider}`, "attachments_not_supported");
}

/** The upstream account holding a referenced file is gone or switched off. */
export function fileAccountUnavailable(id: string): HttpError {
  return new HttpError(409, `file ${id} is held by an upstream account that cannot serve requests now; upload the file again`, "file_account_unavailable");
}

async function readBytes(a: Attachment, what: string, signal: AbortSignal, allowPrivate: boolean): Promise<{ data: Uint8Array; mediaType: string; filename?: string }> {
  if (a.source.type === "base64") return { data: decodeBase64(a.source.data, what), mediaType: bareMediaType(a.source.mediaType) };
  if (a.source.type === "url") {
    const got = await readAttachmentUrl(a.source.url, what, signal, allowPrivate);
    return { ...got, mediaType: got.mediaType || bareMediaType(a.source.mediaType) };
  }
  throw new Error("file ids are not read");
}

/** The media type to upload under: declared, else sniffed; checked against the kind. */
function checkedType(kind: Attachment["kind"], declared: string, data: Uint8Array, what: string): string {
  const sniffed = sniffMediaType(data);
  const generic = !declared || declared === "application/octet-stream" || declared === "binary/octet-stream";
  const type = generic ? sniffed ?? (kind === "file" ? "text/plain" : "") : declared;
  if (kind === "image") {
    if (!IMAGE_TYPES.has(type)) throw new HttpError(400, `${what} has media type "${type || "unknown"}"; images must be one of ${[...IMAGE_TYPES].join(", ")}`, "unsupported_media_type");
    return type;
  }
  if (!isAcceptedFileType(type)) throw new HttpError(400, `${what} has media type "${type}", which is not accepted (PDF, text, JSON, Office documents and images are)`, "unsupported_media_type");
  return type;
}

export async function resolveTurnAttachments(ctx: AppContext, turn: TurnRequest, caller: Caller, signal: AbortSignal): Promise<TurnRequest> {
  const found: { a: Attachment; where: string }[] = [];
  turn.messages.forEach((m, i) => m.attachments?.forEach((a, j) => found.push({ a, where: `messages[${i}] attachment ${j + 1}` })));
  if (found.length === 0) return turn;
  const provider = ctx.providers.forModel(turn.model);
  if (!provider.files) throw notSupported(provider.id);
  if (found.length > MAX_ATTACHMENTS) throw new HttpError(400, `too many images/files in one request: ${found.length} (at most ${MAX_ATTACHMENTS})`, "too_many_attachments");

  const refFileIds: string[] = [];
  let pinned = turn.pinnedAccount;
  let vision = false;
  const inline: { a: Attachment; where: string; index: number }[] = [];
  for (const [index, { a, where }] of found.entries()) {
    const what = `${where} (${a.kind})`;
    if (a.source.type !== "file_id") {
      inline.push({ a, where: what, index });
      if (a.kind === "image") vision = true;
      continue;
    }
    const id = a.source.id;
    // One store read per referenced file id (only requests that name uploaded files do it): the file → account pin.
    const stored = await ctx.store.files.get(id, caller.id);
    if (!stored || stored.provider !== provider.id) throw new HttpError(400, `file ${id} is not known here; upload it with POST /v1/files first`, "file_not_found");
    if (stored.mediaType.startsWith("image/")) vision = true;
    if (!refFileIds.includes(id)) refFileIds.push(id);
    if (stored.account === undefined) continue;
    // A file lives on the account that uploaded it: the turn must run there (and only one account can be chosen).
    if (caller.kind !== "key") throw fileAccountUnavailable(id);
    if (pinned && pinned !== stored.account) {
      throw new HttpError(409, `file ${id} is held by another upstream account than the one this request is pinned to (X-Ds2-Target-Account or another file)`, "file_account_conflict");
    }
    const account = provider.accounts?.status().accounts.find((x) => x.identifier === stored.account);
    if (provider.accounts && (!account || account.status === "disabled")) throw fileAccountUnavailable(id);
    pinned = stored.account;
  }

  const attachments: TurnAttachment[] = [];
  for (const { a, where, index } of inline) {
    const got = await readBytes(a, where, signal, ctx.options.allowPrivateAttachmentUrls);
    const mediaType = checkedType(a.kind, got.mediaType, got.data, where);
    attachments.push({ kind: a.kind, data: got.data, mediaType, filename: a.filename ?? got.filename ?? defaultFilename(a.kind, mediaType, index) });
  }
  return { ...turn, attachments, refFileIds, pinnedAccount: pinned, vision: turn.vision || vision };
}
