import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_CATEGORY, MAX_SEARCH, catalogText } from '../src/catalog-query.js';

const EMOJI = '\u{1F600}';

describe('catalogText: a search or category as GET /product takes it', () => {
  it('when an address holds more than the limit in emoji, then the cut is between characters: never half an emoji, which the browser cannot send', () => {
    // 'a' and 99 emoji are 199 units: the 100th emoji, whose first half is the 200th, is left out whole.
    assert.equal(catalogText(`a${EMOJI.repeat(100)}`, MAX_SEARCH), `a${EMOJI.repeat(99)}`);
    assert.equal(catalogText(EMOJI.repeat(MAX_CATEGORY), MAX_CATEGORY), EMOJI.repeat(MAX_CATEGORY / 2));
    assert.equal(catalogText(`a${EMOJI.repeat(MAX_CATEGORY)}`, MAX_CATEGORY), `a${EMOJI.repeat(MAX_CATEGORY / 2 - 1)}`);
    // Cutting UTF-16 units (the old code) left a lone half: encodeURIComponent throws on it.
    assert.throws(() => encodeURIComponent(`a${EMOJI.repeat(100)}`.slice(0, MAX_SEARCH)), URIError);
    assert.doesNotThrow(() => encodeURIComponent(catalogText(`a${EMOJI.repeat(300)}`, MAX_SEARCH)));
  });

  it('when the text holds a NUL or half an emoji, then they are left out and the rest is kept', () => {
    assert.equal(catalogText('ket\0tle', MAX_SEARCH), 'kettle');
    assert.equal(catalogText('a\uD83Db\uDE00c', MAX_SEARCH), 'abc');
    assert.equal(catalogText(`x${EMOJI}y`, MAX_SEARCH), `x${EMOJI}y`);
  });

  it('any text: no NUL, sendable (encodeURIComponent does not throw), at most the limit in UTF-16 units (the search box\'s maxLength; the service counts characters, never more), and the start of the text when that had nothing to leave out (property)', () => {
    const unit = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('\0', '\uD83D', '\uDE00', EMOJI, 'a', ' ') }));
    fc.assert(
      fc.property(unit, fc.integer({ min: 1, max: 300 }), (text, max) => {
        const out = catalogText(text, max);
        assert.ok(!out.includes('\0'));
        assert.doesNotThrow(() => encodeURIComponent(out));
        assert.ok(out.length <= max);
        // Nothing to leave out: the longest start of the text that fits and does not end inside a character.
        if (!/\0|[\uD800-\uDFFF]/.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
          assert.ok(text.startsWith(out));
          assert.ok(out.length === Math.min(text.length, max) || (out.length === max - 1 && /[\uD800-\uDBFF]/.test(text[max - 1]!)));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
