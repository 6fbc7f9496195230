/** Request schema of Gemini `:generateContent` / `:streamGenerateContent` / `:countTokens` (contents checked per action). */
import { t } from "elysia";

export const GenerateContentBody = t.Object(
  {
    contents: t.Optional(t.Array(t.Any())),
    systemInstruction: t.Optional(t.Any()),
    tools: t.Optional(t.Array(t.Any())),
    toolConfig: t.Optional(t.Any()),
    generationConfig: t.Optional(t.Object({}, { additionalProperties: true })),
    generateContentRequest: t.Optional(t.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);
