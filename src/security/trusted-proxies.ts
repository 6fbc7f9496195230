/**
 * DS2API_TRUSTED_PROXIES: comma-separated IPs / CIDRs (IPv4 and IPv6). Only when the direct peer is one of
 * them are `X-Forwarded-For` (the right-most hop that is not a trusted proxy) or `X-Real-IP` taken as the
 * client address; otherwise forwarding headers are ignored (anyone can send them).
 */
interface Cidr {
  v6: boolean;
  base: bigint;
  bits: number;
}

export class TrustedProxyError extends Error {}

/** An address as (family, 128- or 32-bit number); IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as IPv4. */
export function parseIp(raw: string): { v6: boolean; value: bigint } | undefined {
  let s = raw.trim();
  if (s.startsWith("[") && s.includes("]")) s = s.slice(1, s.indexOf("]"));
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1]!;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    const parts = s.split(".").map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { v6: false, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!s.includes(":") || !/^[0-9a-f:.]+$/i.test(s)) return undefined;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const p = parseIp(v4[1]!);
    if (!p || p.v6) return undefined;
    s = `${s.slice(0, -v4[1]!.length)}${(p.value >> 16n).toString(16)}:${(p.value & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const want = 8;
  if (halves.length === 1 && head.length !== want) return undefined;
  if (head.length + rest.length > want) return undefined;
  const groups = [...head, ...Array(want - head.length - rest.length).fill("0"), ...rest];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return { v6: true, value };
}

function parseCidr(entry: string): Cidr {
  const [ip, bitsRaw] = entry.split("/");
  const parsed = parseIp(ip ?? "");
  if (!parsed) throw new TrustedProxyError(`DS2API_TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address or CIDR`);
  const max = parsed.v6 ? 128 : 32;
  const bits = bitsRaw === undefined ? max : Number(bitsRaw);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new TrustedProxyError(`DS2API_TRUSTED_PROXIES: ${JSON.stringify(entry)} has an invalid prefix length`);
  const shift = BigInt(max - bits);
  return { v6: parsed.v6, base: (parsed.value >> shift) << shift, bits };
}

/** The list as configured; throws TrustedProxyError naming a bad entry. */
export function parseTrustedProxies(raw: string | undefined): string[] {
  const entries = (raw ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  for (const e of entries) parseCidr(e);
  return entries;
}

export class TrustedProxies {
  private readonly cidrs: Cidr[];

  constructor(entries: readonly string[]) {
    this.cidrs = entries.map(parseCidr);
  }

  get enabled(): boolean {
    return this.cidrs.length > 0;
  }

  trusts(address: string): boolean {
    const ip = parseIp(address);
    if (!ip) return false;
    return this.cidrs.some((c) => {
      if (c.v6 !== ip.v6) return false;
      const shift = BigInt((c.v6 ? 128 : 32) - c.bits);
      return (ip.value >> shift) << shift === c.base;
    });
  }

  /** The client address of a request whose direct peer is `peer`. */
  clientAddress(peer: string, headers: Headers): string {
    if (!this.enabled || !this.trusts(peer)) return peer;
    const hops = (headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter((h) => parseIp(h));
    for (let i = hops.length - 1; i >= 0; i--) if (!this.trusts(hops[i]!)) return normalise(hops[i]!);
    if (hops.length) return normalise(hops[0]!);
    const real = headers.get("x-real-ip")?.trim();
    if (real && parseIp(real)) return normalise(real);
    return peer;
  }
}

function normalise(address: string): string {
  const s = address.trim();
  return s.startsWith("[") && s.includes("]") ? s.slice(1, s.indexOf("]")) : s;
}
