// What a name must hold to be seen, and must not hold: JSON Schema rules for free text that a person reads back
// (a product's name, a category, a customer's name).
import { Type, type StringOptions, type TString } from '@sinclair/typebox';

/**
 * At least one letter, digit, punctuation mark or symbol. `\S` let through text made only of invisible
 * characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, a lone combining mark), shown as a blank name in the
 * shop and the admin. Ajv compiles schema patterns with the `u` flag, so the property escapes work. Not counted:
 * the letters and the symbol that are drawn blank (the Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, and
 * U+2800 BRAILLE PATTERN BLANK): a name made only of them was an empty card link in the shop.
 */
export const VISIBLE_TEXT_PATTERN = '(?![\\u115F\\u1160\\u2800\\u3164\\uFFA0])[\\p{L}\\p{N}\\p{P}\\p{S}]';

/**
 * The characters that reorder the text around them: Unicode's explicit embeddings and overrides (U+202A to
 * U+202E) and isolates (U+2066 to U+2069). A product name holding U+202E turned the shop's own words after it
 * backwards ("Created <name>.", the tab title, the checkout's messages), in any other client's listing too (the
 * "Trojan Source" trick). Right-to-left names need none of them; the marks U+200E and U+200F stay allowed.
 */
export const DIRECTION_CONTROL_PATTERN = '[\\u202A-\\u202E\\u2066-\\u2069]';

/**
 * Free text a person reads back: at least one visible character, no direction control, at most `maxLength`. The
 * `not` names the string type: Ajv checks it before `type`, and a bare `pattern` holds for any value that is not a
 * string, so a number or null was refused as holding direction controls instead of as not being a string.
 */
export function VisibleText(maxLength: number, options: StringOptions = {}): TString {
  return Type.String({ ...options, minLength: 1, maxLength, pattern: VISIBLE_TEXT_PATTERN, not: { type: 'string', pattern: DIRECTION_CONTROL_PATTERN } });
}

/**
 * A code a person types and reads back (a product's SKU): no white space (`\s`, and U+0085 NEL, which JavaScript's `\s`
 * leaves out), no control character (C0, DEL, C1) and no invisible format character (U+200B ZERO WIDTH SPACE, U+00AD,
 * the direction overrides U+202A to U+202E and isolates): `^\S+$` took `A\u200BB` as another SKU than `AB` (alike on
 * screen), a BEL, and U+202E, which turned the rest of the admin's SKU column backwards. Nor any other character
 * Unicode says is drawn as nothing (Default_Ignorable_Code_Point: the Hangul fillers, variation selectors, U+034F
 * COMBINING GRAPHEME JOINER, the Mongolian and Khmer ones, which are letters or marks, not Cf) or U+2800 BRAILLE
 * PATTERN BLANK: `MUG-1\uFE0F` was another SKU than `MUG-1`, alike on the product page and in the admin's list.
 */
export const CODE_PATTERN = '^[^\\s\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}\\u2800]+$';
