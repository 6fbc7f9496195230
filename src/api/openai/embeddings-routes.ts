/** `POST /v1/embeddings` (and `/embeddings`): deterministic vectors, opt-in like the Go ds2api; no account slot taken. */
import { Elysia, t, type Static } from "elysia";
import { deterministicEmbedding, embeddingToBase64 } from "../../core/embeddings/deterministic.ts";
import { countTokensAsync } from "../../core/usage/tokenizer.ts";
import type { AppContext } from "../../context.ts";
import { businessAuth } from "../business-auth.ts";
import { HttpError } from "../http-error.ts";
import { requireModel } from "../model-lookup.ts";

const PROVIDERS = new Set(["mock", "deterministic", "builtin"]);

const EmbeddingsBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Union([t.String(), t.Array(t.String()), t.Array(t.Integer()), t.Array(t.Array(t.Integer()))]),
    encoding_format: t.Optional(t.Union([t.Literal("float"), t.Literal("base64")])),
    dimensions: t.Optional(t.Integer({ minimum: 1, maximum: 4096 })),
  },
  { additionalProperties: true },
);

type Body = Static<typeof EmbeddingsBody>;

export function embeddingsRoutes(ctx: AppContext) {
  const handler = async ({ body }: { body: Body }) => {
    const provider = String(ctx.settings.section<{ provider?: string }>("embeddings").provider ?? "");
    if (!PROVIDERS.has(provider)) {
      throw new HttpError(501, 'Embeddings are not configured: DeepSeek web chat has no embedding model. Set embeddings.provider to "deterministic" (admin settings or config.json) to serve deterministic placeholder vectors.', "embeddings_not_configured");
    }
    requireModel(ctx, body.model);
    const inputs: string[] =
      typeof body.input === "string" ? [body.input] : body.input.length && Array.isArray(body.input[0]) ? (body.input as number[][]).map((a) => a.join(" ")) : typeof body.input[0] === "number" ? [(body.input as number[]).join(" ")] : (body.input as string[]);
    if (inputs.length === 0 || inputs.every((s) => s === "")) throw new HttpError(400, "input must not be empty");
    let tokens = 0;
    const data = [];
    for (const [index, text] of inputs.entries()) {
      tokens += await countTokensAsync(text);
      const v = deterministicEmbedding(text, body.dimensions);
      data.push({ object: "embedding", index, embedding: body.encoding_format === "base64" ? embeddingToBase64(v) : v });
    }
    return { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  };
  return new Elysia({ name: "openai-embeddings" })
    .use(businessAuth(ctx))
    .post("/v1/embeddings", handler, { body: EmbeddingsBody })
    .post("/embeddings", handler, { body: EmbeddingsBody });
}
