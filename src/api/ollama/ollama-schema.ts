/** Request bodies of Ollama's `/api/chat` and `/api/generate` (only the fields ds2api reads are typed). */
import { t, type Static } from "elysia";

const Images = t.Optional(t.Union([t.Array(t.String()), t.Null()]));
const Think = t.Optional(t.Union([t.Boolean(), t.String(), t.Null()]));
const Options = t.Optional(t.Union([t.Record(t.String(), t.Unknown()), t.Null()]));

const OllamaToolCall = t.Object(
  {
    id: t.Optional(t.String()),
    function: t.Object({ name: t.String(), arguments: t.Optional(t.Unknown()) }, { additionalProperties: true }),
  },
  { additionalProperties: true },
);

export const OllamaMessage = t.Object(
  {
    role: t.String(),
    content: t.Optional(t.Union([t.String(), t.Null()])),
    thinking: t.Optional(t.Union([t.String(), t.Null()])),
    images: Images,
    tool_calls: t.Optional(t.Union([t.Array(OllamaToolCall), t.Null()])),
    tool_name: t.Optional(t.String()),
    tool_call_id: t.Optional(t.String()),
  },
  { additionalProperties: true },
);

export const OllamaChatBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Optional(t.Union([t.Array(OllamaMessage), t.Null()])),
    tools: t.Optional(t.Union([t.Array(t.Unknown()), t.Null()])),
    stream: t.Optional(t.Union([t.Boolean(), t.Null()])),
    think: Think,
    options: Options,
    format: t.Optional(t.Unknown()),
  },
  { additionalProperties: true },
);

export const OllamaGenerateBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    prompt: t.Optional(t.Union([t.String(), t.Null()])),
    system: t.Optional(t.Union([t.String(), t.Null()])),
    suffix: t.Optional(t.Union([t.String(), t.Null()])),
    images: Images,
    stream: t.Optional(t.Union([t.Boolean(), t.Null()])),
    think: Think,
    options: Options,
    format: t.Optional(t.Unknown()),
  },
  { additionalProperties: true },
);

export type OllamaChatRequest = Static<typeof OllamaChatBody>;
export type OllamaGenerateRequest = Static<typeof OllamaGenerateBody>;
export type OllamaMessageIn = Static<typeof OllamaMessage>;
