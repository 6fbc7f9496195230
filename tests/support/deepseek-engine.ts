/** Tests reach into the DeepSeek provider's engine (account pool, proxies, settings) through the registry. */
import type { AppContext } from "../../src/context.ts";
import type { Engine } from "../../src/upstream/deepseek/engine.ts";
import { DeepSeekProvider } from "../../src/upstream/deepseek/provider.ts";

export function deepseekEngine(ctx: AppContext): Engine {
  const p = ctx.providers.get("deepseek");
  if (!(p instanceof DeepSeekProvider)) throw new Error("the deepseek provider is not registered");
  return p.engine;
}
