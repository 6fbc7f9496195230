/** Which client surface a path belongs to; it decides the error shape and auth rules. */
export type Surface = "openai" | "anthropic" | "gemini" | "ollama" | "admin" | "public";

export function surfaceForPath(pathname: string): Surface {
  if (pathname === "/admin" || pathname.startsWith("/admin/")) return "admin";
  if (pathname.startsWith("/anthropic/") || pathname.startsWith("/v1/messages") || pathname.startsWith("/messages")) return "anthropic";
  if (pathname.startsWith("/v1beta/")) return "gemini";
  if (pathname.startsWith("/api/")) return "ollama";
  if (pathname.startsWith("/v1/models/") && pathname.includes(":")) return "gemini";
  if (pathname === "/healthz" || pathname === "/readyz" || pathname === "/" || pathname === "/metrics") return "public";
  return "openai";
}
