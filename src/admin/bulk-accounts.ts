/**
 * Bulk account input for `POST /admin/accounts/bulk`: a ds2api config (or its `accounts` array) as JSON,
 * or one `email:password` / `mobile:password` per line (blank lines and `#` comments skipped).
 * Problems are reported by line or entry number, never with the password.
 */
import { ConfigError, parseDs2ApiConfig, type ConfigAccount, type ConfigProxy } from "../config/ds2api-config.ts";
import { canonicalMobile } from "../config/mobile.ts";

export interface BulkParse {
  accounts: ConfigAccount[];
  errors: string[];
}

export function parseBulkAccounts(text: string, storedProxies: ConfigProxy[] = []): BulkParse {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) return parseJsonAccounts(trimmed, storedProxies);
  const accounts: ConfigAccount[] = [];
  const errors: string[] = [];
  trimmed.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) return;
    const sep = line.search(/[:\t]/);
    if (sep <= 0) return errors.push(`line ${i + 1}: expected identifier:password`);
    const ident = line.slice(0, sep).trim();
    const password = line.slice(sep + 1).trim();
    if (!password) return errors.push(`line ${i + 1}: the password is empty`);
    if (ident.includes("@")) {
      const email = ident.toLowerCase();
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) return errors.push(`line ${i + 1}: ${JSON.stringify(ident)} is not an email address`);
      accounts.push({ identifier: email, email, password });
      return;
    }
    const mobile = canonicalMobile(ident);
    if (!mobile || /[^\d+\s()-]/.test(ident)) return errors.push(`line ${i + 1}: ${JSON.stringify(ident.slice(0, 40))} is neither an email nor a mobile number`);
    accounts.push({ identifier: mobile, mobile, password });
  });
  return { accounts, errors };
}

function parseJsonAccounts(text: string, storedProxies: ConfigProxy[]): BulkParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { accounts: [], errors: [`not valid JSON: ${(e as Error).message.replace(/^JSON Parse error: /, "")}`] };
  }
  const doc = Array.isArray(raw) ? { accounts: raw } : (raw as Record<string, unknown>);
  try {
    // Only the accounts are taken; their proxy ids must name a proxy of the document, else a stored one.
    const { config, warnings } = parseDs2ApiConfig({ accounts: doc.accounts ?? [], proxies: doc.proxies ?? storedProxies });
    return { accounts: config.accounts ?? [], errors: warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { accounts: [], errors: e.problems };
    throw e;
  }
}
