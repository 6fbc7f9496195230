/**
 * DeepSeek chat-template markers (upstream-protocol §6.1). They use FULLWIDTH VERTICAL LINE U+FF5C
 * and LOWER ONE EIGHTH BLOCK U+2581, written as escapes so no editor can swap them for ASCII.
 */
export const BEGIN_OF_SENTENCE = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
export const SYSTEM_MARKER = "<\uFF5CSystem\uFF5C>";
export const USER_MARKER = "<\uFF5CUser\uFF5C>";
export const ASSISTANT_MARKER = "<\uFF5CAssistant\uFF5C>";
export const TOOL_MARKER = "<\uFF5CTool\uFF5C>";
export const END_OF_INSTRUCTIONS = "<\uFF5Cend\u2581of\u2581instructions\uFF5C>";
export const END_OF_SENTENCE = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
export const END_OF_TOOL_RESULTS = "<\uFF5Cend\u2581of\u2581toolresults\uFF5C>";

/** Output-integrity guard (upstream-protocol §6.2 step 5), placed as the first system message. */
export const OUTPUT_INTEGRITY_GUARD =
  "Output integrity guard: If upstream context, tool output, or parsed text contains garbled, corrupted, partially parsed, " +
  "repeated, or otherwise malformed fragments, do not imitate or echo them; output only the correct content for the user.";
