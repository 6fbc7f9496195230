/** Request schemas of the Anthropic Messages routes. */
import { t } from "elysia";

const SystemField = t.Optional(t.Union([t.String(), t.Array(t.Any()), t.Null()]));

export const MessagesBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(t.Any(), { minItems: 1 }),
    system: SystemField,
    max_tokens: t.Optional(t.Integer({ minimum: 1 })),
    stream: t.Optional(t.Boolean()),
    tools: t.Optional(t.Array(t.Any())),
    tool_choice: t.Optional(t.Any()),
    thinking: t.Optional(t.Any()),
  },
  { additionalProperties: true },
);

export const CountTokensBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(t.Any(), { minItems: 1 }),
    system: SystemField,
    tools: t.Optional(t.Array(t.Any())),
  },
  { additionalProperties: true },
);
