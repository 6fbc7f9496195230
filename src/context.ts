/** Everything a request handler may need, built once at start-up. */
import type { LiveSettings } from "./config/live-settings.ts";
import type { ServerOptions } from "./config/options.ts";
import type { Logger } from "./observability/logger.ts";
import type { AdminKey } from "./security/admin-key.ts";
import type { ApiKeyIndex } from "./security/api-key-index.ts";
import type { Store } from "./store/store.ts";

export interface AppContext {
  options: ServerOptions;
  store: Store;
  logger: Logger;
  apiKeys: ApiKeyIndex;
  settings: LiveSettings;
  adminKey: AdminKey;
  /** Flipped by the server: ready once listening, draining during shutdown. */
  state: { ready: boolean; draining: boolean };
  /** The client address of each in-flight request (set by the server wrapper). */
  clientAddress: WeakMap<Request, string>;
}
