/**
 * Which parts of a setting value are secret, and how they are sealed on write / opened on read: the JWT secret,
 * proxy passwords, the Vercel token, provider authorizations; a plaintext console password becomes argon2id.
 * Pure (no SQL): the settings repository and the migrations share it.
 */
import { SecretBox } from "./secret-box.ts";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** argon2id for anything that is not already a hash this build understands. */
export function hashIfPlainPassword(value: unknown): unknown {
  if (typeof value !== "string" || !value || value.startsWith("$argon2") || value.startsWith("sha256:")) return value;
  return Bun.password.hashSync(value, { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 });
}

/** The stored form of a setting value (secrets sealed). */
export function concealSetting(box: SecretBox, key: string, value: unknown): unknown {
  if (key === "admin_jwt_secret" && typeof value === "string") return SecretBox.isSealed(value) ? value : box.seal(value, "settings.admin_jwt_secret");
  if (key === "proxies" && Array.isArray(value)) {
    return value.map((p) => (isObj(p) && typeof p.password === "string" && p.password && !SecretBox.isSealed(p.password) ? { ...p, password: box.seal(p.password, "settings.proxies.password") } : p));
  }
  if (key === "section.vercel" && isObj(value) && typeof value.token === "string" && value.token && !SecretBox.isSealed(value.token)) {
    return { ...value, token: box.seal(value.token, "settings.vercel.token") };
  }
  if (key === "admin" && isObj(value) && value.password_hash !== undefined) return { ...value, password_hash: hashIfPlainPassword(value.password_hash) };
  if (key.startsWith("provider.") && isObj(value) && typeof value.authorization === "string" && value.authorization && !SecretBox.isSealed(value.authorization)) {
    return { ...value, authorization: box.seal(value.authorization, `settings.${key}.authorization`) };
  }
  return value;
}

export function revealSetting(box: SecretBox, key: string, value: unknown): unknown {
  if (key === "admin_jwt_secret" && typeof value === "string") return box.open(value, "settings.admin_jwt_secret");
  if (key === "proxies" && Array.isArray(value)) {
    return value.map((p) => (isObj(p) && typeof p.password === "string" ? { ...p, password: box.open(p.password, "settings.proxies.password") } : p));
  }
  if (key === "section.vercel" && isObj(value) && typeof value.token === "string") return { ...value, token: box.open(value.token, "settings.vercel.token") };
  if (key.startsWith("provider.") && isObj(value) && typeof value.authorization === "string") return { ...value, authorization: box.open(value.authorization, `settings.${key}.authorization`) };
  return value;
}
