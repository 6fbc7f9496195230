/** Business credential extraction (api-surface.md §2.1): the first non-empty source wins. */
export function extractCredential(request: Request, url: URL): string | undefined {
  const auth = request.headers.get("authorization");
  if (auth) {
    const m = /^\s*bearer\s+(.+)$/i.exec(auth);
    const v = (m ? m[1] : "")!.trim();
    if (v) return v;
  }
  for (const h of ["x-api-key", "x-goog-api-key"]) {
    const v = request.headers.get(h)?.trim();
    if (v) return v;
  }
  for (const q of ["key", "api_key"]) {
    const v = url.searchParams.get(q)?.trim();
    if (v) return v;
  }
  return undefined;
}
