/**
 * A strict reader of the Prometheus text format for tests: every line must be a comment, HELP/TYPE, or a
 * sample `name{labels} value`. Samples are keyed `name{k="v",…}` with label values unescaped.
 */
export interface Exposition {
  types: Map<string, string>;
  samples: Map<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  if (text.length && !text.endsWith("\n")) throw new Error("exposition must end with a line feed");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      if (types.has(name!)) throw new Error(`duplicate TYPE for ${name}`);
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: string[] = [];
    if (m[3]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[3].length) {
        const l = LABEL.exec(m[3]);
        if (!l) throw new Error(`bad labels in ${JSON.stringify(line)}`);
        labels.push(`${l[1]}="${unescape(l[2]!)}"`);
      }
    }
    const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    if (Number.isNaN(value) && m[4] !== "NaN") throw new Error(`bad value in ${JSON.stringify(line)}`);
    const key = labels.length ? `${m[1]}{${labels.join(",")}}` : m[1]!;
    if (samples.has(key)) throw new Error(`duplicate sample ${key}`);
    samples.set(key, value);
  }
  return { types, samples };
}

/** Sum of every sample of `name` whose labels include all of `match`. */
export function sumOf(exp: Exposition, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of exp.samples) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(match).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}
