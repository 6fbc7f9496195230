/** Request schema of Gemini `:generateContent` / `:streamGenerateContent` / `:countTokens`. */
import { t } from "elysia";

export const GenerateContentBody = t.Object(
  {
    contents: t.Array(t.Any(), { minItems: 1 }),
    systemInstruction: t.Optional(t.Any()),
    tools: t.Optional(t.Array(t.Any())),
    toolConfig: t.Optional(t.Any()),
    generationConfig: t.Optional(t.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

export const CountTokensBody = t.Object(
  {
    contents: t.Optional(t.Array(t.Any())),
    generateContentRequest: t.Optional(t.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);
