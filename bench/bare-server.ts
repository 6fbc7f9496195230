/** Baseline for bench/startup.ts: a bare Bun.serve answering /readyz. Usage: bun bench/bare-server.ts <port> */
Bun.serve({ port: Number(process.argv[2]), hostname: "127.0.0.1", fetch: () => Response.json({ status: "ready" }) });
