// What the controls of a cart line are named after: its product's name, unless two lines' names sound the same.

/** A name as a screen reader says it: case and runs of white space make no difference. */
export const heard = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The names the controls of each line say ("Remove Mug", "Quantity of Mug"), in the lines' order. Each control's
 * name must say which line it acts on: when two lines' names sound the same (two products called "Mug", or "Mug" and
 * "mug "), every line is named with its place too ("Mug (item 2 of 3)"), so no two are alike, even beside a product
 * whose own name reads "Mug (item 1 of 3)".
 */
export function lineLabels(names: readonly string[]): string[] {
  const unique = new Set(names.map(heard)).size === names.length;
  return unique ? [...names] : names.map((name, i) => `${name.trim()} (item ${i + 1} of ${names.length})`);
}
