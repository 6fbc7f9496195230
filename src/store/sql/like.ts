/**
 * Portable LIKE patterns (sqlite and Postgres): `%`, `_` and `\` in the searched text are escaped, so statements
 * say `LIKE ? ESCAPE '\'`. Callers lower-case both sides for a case-insensitive match (sqlite's LIKE is
 * case-insensitive for ASCII, Postgres's is not).
 */
export const LIKE_ESCAPE = "ESCAPE '\\'";

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Matches any text containing `s`. */
export const likeContaining = (s: string) => `%${escapeLike(s)}%`;

/** Matches any text starting with `s`. */
export const likeStartingWith = (s: string) => `${escapeLike(s)}%`;
