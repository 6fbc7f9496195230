/** Knows which methods each route path allows, so a wrong method answers 405 instead of 404. */
export class RouteMethods {
  private readonly entries: { re: RegExp; methods: Set<string> }[] = [];

  constructor(routes: readonly { method: string; path: string }[]) {
    const byPath = new Map<string, Set<string>>();
    for (const r of routes) {
      // Catch-all routes (the console's SPA fallback) do not make every path "exist" for other methods.
      if (r.path.endsWith("*")) continue;
      const set = byPath.get(r.path) ?? new Set<string>();
      set.add(r.method.toUpperCase());
      byPath.set(r.path, set);
    }
    for (const [path, methods] of byPath) {
      const pattern = path
        .split("/")
        .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      this.entries.push({ re: new RegExp(`^${pattern}$`), methods });
    }
  }

  /** Methods allowed on `pathname`, or empty when no route has that path. */
  allowed(pathname: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries) if (e.re.test(pathname)) for (const m of e.methods) out.add(m);
    return [...out];
  }
}
