import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_CATEGORY, MAX_SEARCH, catalogCategory, catalogText, categoryCanExist, categoryLabels, categoryOptions } from '../src/catalog-query.js';

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

describe('categoryOptions: the category list as GET /product filters', () => {
  it('when the catalog holds one category written with other code points (composed, decomposed, full-width), then the list offers it once, as the address spells it when it is the one selected', () => {
    const nfc = 'Caf\u00e9';
    const nfd = 'Cafe\u0301';
    // Two options that looked the same, each listing the products of one spelling, before the service compared in NFKC.
    assert.deepEqual(categoryOptions(['books', nfd, null, nfc, '\uff22ooks', 'Books'], ''), ['Books', nfd, 'books']);
    assert.deepEqual(categoryOptions([nfc, 'books'], nfd), [nfd, 'books']);
    // Unknown to the list (a link from elsewhere): last, as before.
    assert.deepEqual(categoryOptions(['books', 'art'], 'zines'), ['art', 'books', 'zines']);
    assert.deepEqual(categoryOptions([], ''), []);
  });

  it('offers every category the service tells apart exactly once, and the selected one (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }))), fc.string({ unit: 'grapheme', maxLength: 8 }), (categories, selected) => {
        const options = categoryOptions(categories, selected);
        const forms = options.map((c) => c.normalize('NFKC'));
        assert.equal(new Set(forms).size, forms.length);
        for (const c of categories) if (c) assert.ok(forms.includes(c.normalize('NFKC')));
        if (selected) assert.ok(options.includes(selected));
      }),
    );
  });
});

describe('catalogCategory and categoryCanExist: a category from the address as GET /product takes it', () => {
  it('when the category has nothing to see (spaces, a zero-width space, a word joiner), then it is no filter; else it is kept, trimmed and cut', () => {
    for (const blank of ['', '   ', '\u200B', ' \u2060 ', '\u3164', '\u2800\u2800', '\u115F\uFFA0']) assert.equal(catalogCategory(blank), '', JSON.stringify(blank));
    assert.equal(catalogCategory(' books '), 'books');
    assert.equal(catalogCategory('c'.repeat(MAX_CATEGORY + 100)), 'c'.repeat(MAX_CATEGORY));
    assert.equal(catalogCategory('مشروبات'), 'مشروبات');
  });

  it('property: a category a product may hold (up to 64 characters), as sent or as GET /product/categories lists it (NFKC), is kept whole', () => {
    // The cut was at 64 UTF-16 units: a category of 40 emoji (40 characters) was sent as 32, and one that NFKC made
    // longer (ﷺ is 18 characters, ㌀ 4) was cut too, so choosing it in the Category list found nothing.
    const character = fc.constantFrom('\u{1F600}', '\uFDFA', '\u3300', '…', 'a', 'é', '\u{1D160}');
    fc.assert(
      fc.property(fc.array(character, { minLength: 1, maxLength: 64 }), (chars) => {
        const category = chars.join('');
        for (const form of [category, category.normalize('NFKC')]) assert.equal(catalogCategory(form), form, `${[...form].length} characters`);
      }),
    );
  });

  it('when the category holds a direction control, then no product can have it; right-to-left text and the direction marks can', () => {
    assert.equal(categoryCanExist('zz\u202Ezz'), false);
    assert.equal(categoryCanExist('a\u2066b'), false);
    assert.equal(categoryCanExist('مشروبات\u200F'), true);
    assert.equal(categoryCanExist('books'), true);
  });
});

describe('categoryLabels: the words of the Category list', () => {
  it('when categories differ in case only ("home" and the "Home" an admin typed), then each reads as spelled, not both "Home"; the others get their first letter in capitals', () => {
    assert.deepEqual(categoryLabels(['Home', 'books', 'home']), ['Home', 'Books', 'home']);
    assert.deepEqual(categoryLabels(['books', 'électronique', 'déco', 'Déco']), ['Books', 'Électronique', 'déco', 'Déco']);
    assert.deepEqual(categoryLabels([`${EMOJI}gifts`, 'straße']), [`${EMOJI}gifts`, 'Straße']);
  });

  it('any categories as the list offers them: no two options read alike, and each reads as itself with its first letter in capitals or as spelled (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'A', 'b', 'B', 'ß', 'S', 's', 'ŉ', 'ʼ', 'N', 'n', 'ǆ', 'ǅ', 'Ǆ', EMOJI, ' '), minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.uniqueArray(text, { maxLength: 12 }), (options) => {
        const labels = categoryLabels(options);
        assert.equal(labels.length, options.length);
        assert.equal(new Set(labels).size, labels.length, `alike: ${JSON.stringify(labels)}`);
        labels.forEach((label, i) => {
          const c = options[i]!;
          assert.ok(label === c || label === c.replace(/^./u, (x) => x.toUpperCase()), `${c} read as ${label}`);
        });
      }),
      { numRuns: 2000 },
    );
  });
});
