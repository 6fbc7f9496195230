/** Settings checks moved to the admin core (src/admin/settings-validation.ts); re-exported for route code. */
export { turnLimitFields, turnLimitView, validateAliases, validateSection } from "../../admin/settings-validation.ts";
