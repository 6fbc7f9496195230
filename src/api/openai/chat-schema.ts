/** Request schema of `POST /v1/chat/completions` (fields we read are typed; others are accepted and ignored). */
import { t } from "elysia";

export const ChatCompletionBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(t.Any(), { minItems: 1 }),
    stream: t.Optional(t.Boolean()),
    stream_options: t.Optional(t.Union([t.Object({ include_usage: t.Optional(t.Boolean()) }, { additionalProperties: true }), t.Null()])),
    tools: t.Optional(t.Union([t.Array(t.Any()), t.Null()])),
    tool_choice: t.Optional(t.Any()),
    temperature: t.Optional(t.Union([t.Number(), t.Null()])),
    top_p: t.Optional(t.Union([t.Number(), t.Null()])),
    max_tokens: t.Optional(t.Union([t.Integer(), t.Null()])),
    max_completion_tokens: t.Optional(t.Union([t.Integer(), t.Null()])),
  },
  { additionalProperties: true },
);
