// Entity-tag lists as every service reads them (RFC 9110 5.6.1, 8.8.3, 13.1.2): a model of the list, written out
// with any whitespace and empty elements a sender may use, must read back as the model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { noneMatchHolds, readEntityTags } from '../src/index.js';

/** etagc: `!`, `#`-`~` and obs-text; the comma and `*` included, which must not end or replace a tag. */
const opaque = fc.stringMatching(/^[\x21\x23-\x7e\x80-\xff]{0,6}$/).map((t) => `"${t}"`);
const element = fc.oneof(
  fc.tuple(fc.boolean(), opaque).map(([weak, t]) => ({ weak, opaque: t }) as const),
  fc.constant('*' as const),
);
const ows = fc.constantFrom('', ' ', '\t', ' \t ');
const empties = fc.array(ows, { maxLength: 2 }).map((gaps) => gaps.map((g) => `${g},`).join(''));

/** The elements written as one field value: each followed by a comma, empty elements and whitespace anywhere. */
const field = fc.tuple(fc.array(fc.tuple(empties, ows, element, ows), { minLength: 1, maxLength: 5 }), empties).map(([parts, tail]) => ({
  elements: parts.map(([, , e]) => e),
  value: parts.map(([before, lead, e, trail], i) => `${before}${lead}${e === '*' ? '*' : `${e.weak ? 'W/' : ''}${e.opaque}`}${trail}${i < parts.length - 1 ? ',' : ''}`).join('') + tail,
}));

describe('entity-tag lists', () => {
  it('when a list of tags and `*` is written with any whitespace and empty elements, then it reads back as written', () => {
    fc.assert(
      fc.property(field, ({ elements, value }) => {
        const list = readEntityTags(value);
        assert.ok(list, value);
        assert.equal(list.any, elements.includes('*'), value);
        assert.deepEqual(list.tags, elements.filter((e) => e !== '*'), value);
      }),
      { numRuns: 500 },
    );
  });

  it('when If-None-Match holds `*` or the ETag weakly, then it holds; otherwise not', () => {
    fc.assert(
      fc.property(field, opaque, fc.boolean(), ({ elements, value }, current, weakEtag) => {
        const etag = weakEtag ? `W/${current}` : current;
        const expected = elements.some((e) => e === '*' || e.opaque === current);
        assert.equal(noneMatchHolds(value, etag), expected, `${value} vs ${etag}`);
      }),
      { numRuns: 500 },
    );
  });

  it('when the field is no list of entity tags, then it reads as none and holds nothing', () => {
    for (const value of ['', ' ', ',', ' , ,', 'abc', '3', '"3', '3"', 'W/ "3"', 'w/"3"', '"3" "4"', '"a"b', '"\x7f"', '"\u0100"', '**', '"3", x', '* "3"']) {
      assert.equal(readEntityTags(value), undefined, JSON.stringify(value));
      assert.equal(noneMatchHolds(value, '"3"'), false, JSON.stringify(value));
    }
    assert.equal(noneMatchHolds(undefined, '"3"'), false);
    assert.equal(noneMatchHolds('"3"', undefined), false);
    // A comma inside the quotes is the tag's: `"3,4"` is one tag, neither "3" nor "4".
    assert.deepEqual(readEntityTags('"3,4"'), { any: false, tags: [{ weak: false, opaque: '"3,4"' }] });
    assert.equal(noneMatchHolds('"3,4"', '"3"'), false);
  });
});
