/** `ds2api healthcheck`: for container health checks where no shell or curl exists. */
export async function runHealthcheck(port: number, host: string): Promise<number> {
  const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const url = `http://${target.includes(":") ? `[${target}]` : target}:${port}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (res.ok) return 0;
    process.stderr.write(`healthcheck: ${url} answered ${res.status}\n`);
  } catch (e) {
    process.stderr.write(`healthcheck: ${url} unreachable: ${(e as Error).message}\n`);
  }
  return 1;
}
