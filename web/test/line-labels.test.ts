import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { lineLabels } from '../src/page-parts.js';

// As a screen reader says a name: compatibility forms folded (full-width `Ｍｕｇ` is `Mug`), characters drawn and said as
// nothing (zero-width space, soft hyphen, joiners, variation selectors) dropped, case and runs of white space aside.
const heard = (s: string) => s.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim().replace(/\s+/g, ' ').toLowerCase();

// Names that collide as a screen reader says them, and names that look like a label's place ("(item 1 of 3)").
const name = fc.oneof(
  fc.constantFrom('Mug', 'mug', ' Mug', 'Mug  ', 'MUG', 'Mug (item 1 of 3)', 'Mug (item 2 of 2)', 'Mug (item 1 of 2)', 'Mug (item 1 of 11)', 'Jug', 'قدح', 'Mug\t(item 1 of 2)', 'Mug\u200b', '\u2060Mug', 'M\u00adug', 'Ｍｕｇ', 'Mug\ufe0f'),
  fc.string({ maxLength: 6 }),
);

describe('lineLabels: what a cart line\'s controls are named after', () => {
  it('no two lines are named alike as heard (case, white space, invisible characters and full-width forms aside), each name starts with its product\'s, and distinct names are kept as they are', () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 14 }), (names) => {
        const labels = lineLabels(names);
        assert.equal(labels.length, names.length);
        assert.equal(new Set(labels.map(heard)).size, labels.length, JSON.stringify(labels));
        labels.forEach((l, i) => assert.ok(heard(l).startsWith(heard(names[i]!)), `${l} names ${names[i]}`));
        if (new Set(names.map(heard)).size === names.length) assert.deepEqual(labels, names);
      }),
      { numRuns: 2000 },
    );
  });

  it('two products called "Mug" and one "Jug": each line says its place', () => {
    assert.deepEqual(lineLabels(['Mug', 'Jug', 'Mug']), ['Mug (item 1 of 3)', 'Jug (item 2 of 3)', 'Mug (item 3 of 3)']);
    assert.deepEqual(lineLabels(['Mug', 'Jug']), ['Mug', 'Jug']);
  });
});
