/** Reads an admin event stream (`GET /admin/events`) in the background for tests: every event and comment, in order. */
export interface StreamEvent {
  event: string;
  data: any;
}

export interface OpenedEventStream {
  status: number;
  /** Events so far (comments are counted in `comments`). */
  events: StreamEvent[];
  comments: string[];
  ended: boolean;
  /** Resolves when the stream ends (server closed it or close() was called). */
  done: Promise<void>;
  close(): void;
  /** The latest event of this name, if any. */
  latest(name: string): any;
}

export async function openEventStream(url: string, auth: string | undefined): Promise<OpenedEventStream & { body?: string }> {
  const ac = new AbortController();
  const res = await fetch(`${url}/admin/events`, { headers: auth ? { authorization: `Bearer ${auth}` } : {}, signal: ac.signal });
  const out: OpenedEventStream & { body?: string } = {
    status: res.status,
    events: [],
    comments: [],
    ended: false,
    done: Promise.resolve(),
    close: () => ac.abort(),
    latest(name) {
      for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.event === name) return this.events[i]!.data;
      return undefined;
    },
  };
  if (!res.ok || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    out.body = await res.text();
    out.ended = true;
    return out;
  }
  out.done = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) out.comments.push(line);
            else if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length) out.events.push({ event, data: JSON.parse(data.join("\n")) });
        }
      }
    } catch {
      // aborted by close(), or cut by the server
    }
    out.ended = true;
  })();
  return out;
}
