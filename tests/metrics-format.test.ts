/** The Prometheus text format writer: escaping, cumulative histogram buckets, one HELP/TYPE block per metric. */
import { describe, expect, test } from "bun:test";
import { Counter, escapeLabelValue, Gauge, Histogram, renderAll } from "../src/observability/prometheus.ts";
import { Metrics, turnStatus } from "../src/observability/metrics.ts";
import { parseExposition } from "./support/prometheus-parse.ts";

describe("prometheus text format", () => {
  test("label values escape backslash, double quote and line feed", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const c = new Counter("t_total", "help", ["path"]);
    c.inc(['C:\\x "y"\nz']);
    const text = c.render();
    expect(text).toContain('t_total{path="C:\\\\x \\"y\\"\\nz"} 1\n');
    // The parser used by the other metrics tests reads the escaped value back.
    expect(parseExposition(text).samples.get('t_total{path="C:\\x "y"\nz"}')).toBe(1);
  });

  test("counters add per label set; gauges set and reset", () => {
    const c = new Counter("req_total", "Requests.", ["surface", "status"]);
    c.inc(["openai", "200"]);
    c.inc(["openai", "200"], 2);
    c.inc(["gemini", "500"]);
    const g = new Gauge("depth", "Depth.");
    g.set([], 7);
    const parsed = parseExposition(renderAll([c, g]));
    expect(parsed.types.get("req_total")).toBe("counter");
    expect(parsed.types.get("depth")).toBe("gauge");
    expect(parsed.samples.get('req_total{surface="openai",status="200"}')).toBe(3);
    expect(parsed.samples.get('req_total{surface="gemini",status="500"}')).toBe(1);
    expect(parsed.samples.get("depth")).toBe(7);
    g.reset();
    expect(parseExposition(g.render()).samples.size).toBe(0);
  });

  test("histogram buckets are cumulative and end with +Inf, sum and count", () => {
    const h = new Histogram("lat_seconds", "Latency.", ["surface"], [0.1, 1, 10]);
    const values = [0.05, 0.1, 0.5, 2, 20, 20];
    for (const v of values) h.observe(["openai"], v);
    const s = parseExposition(h.render()).samples;
    const le = (b: string) => s.get(`lat_seconds_bucket{surface="openai",le="${b}"}`);
    // Upper bounds are inclusive (le = less or equal).
    expect(le("0.1")).toBe(values.filter((v) => v <= 0.1).length);
    expect(le("1")).toBe(values.filter((v) => v <= 1).length);
    expect(le("10")).toBe(values.filter((v) => v <= 10).length);
    expect(le("+Inf")).toBe(values.length);
    expect(s.get('lat_seconds_count{surface="openai"}')).toBe(values.length);
    expect(s.get('lat_seconds_sum{surface="openai"}')).toBeCloseTo(values.reduce((a, b) => a + b, 0), 9);
    expect(() => new Histogram("bad", "b", [], [1, 1])).toThrow(RangeError);
  });

  test("turn status: error status, 499 for a client that went away, else 200", () => {
    expect(turnStatus({ errorStatus: 429 })).toBe("429");
    expect(turnStatus({ aborted: true })).toBe("499");
    expect(turnStatus({})).toBe("200");
  });

  test("a Metrics without sources still renders its own series and process facts", () => {
    const m = new Metrics();
    m.upstreamError("timeout");
    m.upstreamError("timeout");
    m.requestServed("openai", "POST", 200, 0.2);
    const p = parseExposition(m.render());
    expect(p.samples.get('ds2api_upstream_errors_total{kind="timeout"}')).toBe(2);
    expect(p.samples.get('ds2api_http_requests_total{surface="openai",method="POST",status="200"}')).toBe(1);
    expect(p.samples.get("process_resident_memory_bytes")!).toBeGreaterThan(0);
    expect(p.types.has("ds2api_pool_queue_depth")).toBe(false);
  });
});
