/**
 * The shared fixtures (captured DeepSeek streams, PoW vectors, compat cases), vendored in tests/fixtures so
 * the repository tests itself anywhere (GitHub runners included). fixtures-sync.test.ts checks the copy
 * against ../shared/fixtures whenever that folder is present.
 */
import { fileURLToPath } from "node:url";

export const FIXTURES_URL = new URL("../fixtures/", import.meta.url);
export const FIXTURES_DIR = fileURLToPath(FIXTURES_URL);
export const SHARED_FIXTURES_DIR = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
