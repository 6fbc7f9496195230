/**
 * A TCP pass-through in front of a service (Postgres, Redis) that a test can cut and restore: `cut()` closes every
 * open connection and refuses new ones (accepted, then closed at once — the client sees its connection drop),
 * `restore()` passes traffic again. To the client this is the service going away and coming back, without
 * restarting the service itself. Writes respect back-pressure (queued until the socket drains).
 */
import type { Socket } from "bun";
import { trackStop } from "./processes.ts";

interface Side {
  /** The other end of the pair (undefined until the upstream connection opens). */
  peer?: Socket<Side>;
  /** Bytes waiting for `peer` (before it opened, or while it was full). */
  pending: Uint8Array[];
  /** This pair was closed (late upstream opens are ended at once). */
  closed: boolean;
}

export interface TcpCut {
  host: string;
  port: number;
  /** Close every connection and refuse new ones. */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  /** Connections accepted (passed or refused). */
  readonly accepted: number;
  stop(): Promise<void>;
}

function flush(to: Socket<Side>, queue: Uint8Array[]): void {
  while (queue.length) {
    const head = queue[0]!;
    const n = to.write(head);
    if (n < head.length) {
      queue[0] = head.subarray(Math.max(0, n));
      return;
    }
    queue.shift();
  }
}

function send(to: Socket<Side> | undefined, queue: Uint8Array[], data: Uint8Array): void {
  const copy = new Uint8Array(data);
  if (!to || queue.length) {
    queue.push(copy);
    return;
  }
  const n = to.write(copy);
  if (n < copy.length) queue.push(copy.subarray(Math.max(0, n)));
}

export function startTcpCut(target: { host: string; port: number }): TcpCut {
  let isCut = false;
  let accepted = 0;
  const open = new Set<Socket<Side>>();

  const closePair = (s: Socket<Side>) => {
    s.data.closed = true;
    open.delete(s);
    s.data.peer?.end();
    s.end();
  };

  const server = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        accepted++;
        client.data = { pending: [], closed: false };
        if (isCut) {
          client.end();
          return;
        }
        open.add(client);
        // Upstream → client bytes wait in the upstream side's `pending` while the client is full.
        const toClient: Uint8Array[] = [];
        Bun.connect<Side>({
          hostname: target.host,
          port: target.port,
          data: { peer: client, pending: toClient, closed: false },
          socket: {
            data: (_up, d) => send(client, toClient, d),
            drain: () => flush(client, toClient),
            close: () => closePair(client),
            error: () => closePair(client),
          },
        }).then(
          (up) => {
            if (client.data.closed || isCut) {
              up.end();
              return;
            }
            client.data.peer = up;
            flush(up, client.data.pending);
          },
          () => closePair(client),
        );
      },
      data(client, d) {
        if (client.data.closed) return;
        send(client.data.peer, client.data.pending, d);
      },
      drain(client) {
        // The client drained: upstream → client bytes queued on the upstream side go out now.
        const up = client.data.peer;
        if (up) flush(client, up.data.pending);
      },
      close: (client) => closePair(client),
      error: (client) => closePair(client),
    },
  });

  const stop = trackStop(`tcp cut :${server.port} → ${target.host}:${target.port}`, () => {
    for (const s of [...open]) closePair(s);
    server.stop(true);
  });

  return {
    host: "127.0.0.1",
    port: server.port,
    cut() {
      isCut = true;
      for (const s of [...open]) closePair(s);
    },
    restore() {
      isCut = false;
    },
    get isCut() {
      return isCut;
    },
    get accepted() {
      return accepted;
    },
    stop,
  };
}
