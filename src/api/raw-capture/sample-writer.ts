/**
 * Writes a raw sample in the shared fixtures' layout: `<root>/<sample_id>/meta.json` + `upstream.stream.sse`
 * (the exchanges' response bodies, one after another — the replay splits rounds at each `event: ready`).
 * Nothing written holds a credential: the request is the client body without `api_key`, the upstream
 * bodies come from the tap (which never sees tokens), and both are checked for credential-looking keys.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { badRequest } from "../http-error.ts";
import { responseBytes, type CaptureEntry } from "./capture-log.ts";

const SAMPLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;
const CREDENTIAL_KEY = /^(api_key|apikey|authorization|token|access_token|password|secret|x-api-key|cookie)$/i;

export interface WrittenSample {
  sample_id: string;
  sample_dir: string;
  meta_path: string;
  upstream_path: string;
}

export function checkSampleId(id: string): string {
  if (!SAMPLE_ID.test(id) || id.includes("..")) throw badRequest("sample_id may hold only letters, digits, '.', '_' and '-' (at most 120, no '..')");
  return id;
}

export function defaultSampleId(model: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return `${model.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}`;
}

/** A copy without any key that names a credential, at any depth. */
export function withoutCredentials<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutCredentials(v)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!CREDENTIAL_KEY.test(k)) out[k] = withoutCredentials(v);
    return out as T;
  }
  return value;
}

function countToken(text: string, token: string): number {
  let n = 0;
  for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + token.length)) n++;
  return n;
}

export function writeSample(root: string, sampleId: string, opts: { source: string; request?: unknown; entries: CaptureEntry[] }): WrittenSample {
  const dir = join(root, checkSampleId(sampleId));
  mkdirSync(dir, { recursive: true });
  const body = responseBytes(opts.entries);
  const text = new TextDecoder().decode(body);
  const first = opts.entries[0]!;
  const meta = {
    sample_id: sampleId,
    captured_at_utc: new Date(first.created_at).toISOString().replace(/\.\d+Z$/, "Z"),
    source: opts.source,
    request: withoutCredentials(opts.request ?? null),
    capture: {
      label: first.label,
      url: first.url,
      status_code: first.status_code,
      response_bytes: body.length,
      contains_finished_token: text.includes("FINISHED"),
      finished_token_count: countToken(text, "FINISHED"),
      response_truncated: opts.entries.some((e) => e.response_truncated),
    },
    rounds: opts.entries.map((e) => ({
      capture_id: e.id,
      label: e.label,
      url: e.url,
      status_code: e.status_code,
      response_bytes: e.size,
      upstream_request: withoutCredentials(e.request_body),
    })),
  };
  const metaPath = join(dir, "meta.json");
  const upstreamPath = join(dir, "upstream.stream.sse");
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  writeFileSync(upstreamPath, body);
  return { sample_id: sampleId, sample_dir: dir, meta_path: metaPath, upstream_path: upstreamPath };
}
