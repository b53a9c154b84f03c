// What a name must hold to be seen: a JSON Schema pattern for free text that a person reads back (a product's
// name, a category, a customer's name).

/**
 * At least one letter, digit, punctuation mark or symbol. `\S` let through text made only of invisible
 * characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, a lone combining mark), shown as a blank name in the
 * shop and the admin. Ajv compiles schema patterns with the `u` flag, so the property escapes work.
 */
export const VISIBLE_TEXT_PATTERN = '[\\p{L}\\p{N}\\p{P}\\p{S}]';
