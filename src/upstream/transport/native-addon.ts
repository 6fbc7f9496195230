/**
 * Loads the native TLS transport (impit, a Rust napi addon) once, on first use. A missing or broken addon
 * (no prebuilt binary for this platform, a libc mismatch, a file removed beside the executable) is a
 * reason string, never a crash: callers fall back to Bun's own fetch.
 */
type ImpitModule = typeof import("impit");

export type NativeLoad = { ok: true; impit: ImpitModule } | { ok: false; reason: string };

let cached: NativeLoad | undefined;

function describe(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 3; depth++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    parts.push(msg.replace(/\s+/g, " ").trim());
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  const text = parts.filter(Boolean).join(" ← ") || "unknown error";
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

export function loadNativeTransport(): NativeLoad {
  if (cached) return cached;
  // impit attaches the underlying load error (missing file, wrong libc, …) as `cause` only in verbose mode.
  const verbose = process.env.IMPIT_VERBOSE;
  process.env.IMPIT_VERBOSE = "1";
  try {
    // A runtime require: the addon loads only when a native profile is first used, and a failure stays here.
    const impit = require("impit") as ImpitModule;
    if (typeof impit.Impit !== "function") throw new Error("the impit module has no Impit class");
    cached = { ok: true, impit };
  } catch (e) {
    const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
    cached = { ok: false, reason: `native TLS transport (impit) did not load on ${process.platform}-${process.arch}: ${describe(cause)}` };
  } finally {
    if (verbose === undefined) delete process.env.IMPIT_VERBOSE;
    else process.env.IMPIT_VERBOSE = verbose;
  }
  return cached;
}
