/** A tiny leveled logger writing one line per record. Callers never pass secrets; `maskSecret` exists for the rare need. */

export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "debug" || v === "info" || v === "error") return v;
  if (v === "warn" || v === "warning") return "warn";
  return "info";
}

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function format(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const s = typeof v === "string" ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v);
      line += ` ${k}=${s}`;
    }
  }
  return line;
}

export function createLogger(level: LogLevel, sink: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  const logger: Logger = {
    level,
    debug: (m, f) => ORDER[logger.level] <= ORDER.debug && sink(format("debug", m, f)),
    info: (m, f) => ORDER[logger.level] <= ORDER.info && sink(format("info", m, f)),
    warn: (m, f) => ORDER[logger.level] <= ORDER.warn && sink(format("warn", m, f)),
    error: (m, f) => ORDER[logger.level] <= ORDER.error && sink(format("error", m, f)),
  } as Logger;
  return logger;
}

/** `ab****yz` style preview; short secrets become all stars. */
export function maskSecret(secret: string | null | undefined): string {
  if (!secret) return "";
  if (secret.length <= 4) return "*".repeat(secret.length);
  return `${secret.slice(0, 2)}****${secret.slice(-2)}`;
}
