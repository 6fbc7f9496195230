/**
 * Memory held for an admin event-stream reader that stops reading (a stalled console tab): the event hub
 * (src/api/admin/event-hub.ts, at most one unsent frame per topic) against a baseline measured in the same run, a
 * naive stream that enqueues every frame. Each side runs in its own process for a clean RSS: a server pushes a
 * 100 KB frame every 2 ms to a raw socket that never reads, for DURATION_MS.
 *
 * Usage: bun bench/event-stream-buffer.ts        (prints both growths and their ratio)
 */
import { connect } from "node:net";
import { EventHub } from "../src/api/admin/event-hub.ts";

const DURATION_MS = 4000;
const FRAME = "x".repeat(100_000);

async function side(kind: "hub" | "naive"): Promise<void> {
  let n = 0;
  const hub = new EventHub({ intervalMs: 2, heartbeatMs: 60_000, maxStreams: 1, draining: () => false, topics: () => [{ key: "t", event: "t", data: () => ({ n: ++n, FRAME }) }] });
  const naive = (): ReadableStream<Uint8Array> => {
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setInterval>;
    return new ReadableStream<Uint8Array>({
      start: (c) => void (timer = setInterval(() => c.enqueue(enc.encode(`event: t\ndata: ${JSON.stringify({ n: ++n, FRAME })}\n\n`)), 2)),
      cancel: () => clearInterval(timer),
    });
  };
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(kind === "hub" ? hub.open(req.signal).stream : naive(), { headers: { "content-type": "text/event-stream" } }) });
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  const sock = connect(server.port!, "127.0.0.1");
  sock.write("GET / HTTP/1.1\r\nHost: bench\r\n\r\n");
  sock.pause();
  await Bun.sleep(DURATION_MS);
  Bun.gc(true);
  const grown = process.memoryUsage().rss - before;
  process.stdout.write(JSON.stringify({ kind, frames: n, grownBytes: grown }) + "\n");
  sock.destroy();
  server.stop(true);
  process.exit(0);
}

async function run(kind: "hub" | "naive"): Promise<{ frames: number; grownBytes: number }> {
  const proc = Bun.spawn([process.execPath, import.meta.path, kind], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

const arg = process.argv[2];
if (arg === "hub" || arg === "naive") await side(arg);
else {
  const naive = await run("naive");
  const hub = await run("hub");
  const mb = (b: number) => (b / 1e6).toFixed(1);
  console.log(`baseline (naive stream): ${naive.frames} frames pushed, RSS +${mb(naive.grownBytes)} MB`);
  console.log(`event hub:               ${hub.frames} frames pushed, RSS +${mb(hub.grownBytes)} MB`);
  console.log(`memory held for a reader that stopped reading: ${(hub.grownBytes / Math.max(1, naive.grownBytes)).toFixed(3)}× the baseline`);
}
