import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { guessablePassword } from '../src/model/password-policy.js';

const email = 'grace.hopper@example.test';

describe('password policy (NIST SP 800-63B: blocklist and context, no composition rules)', () => {
  it('when a password is blank, repetitive, a run, common or built on the email, then it is refused with a reason in words', () => {
    for (const weak of ['        ', ' \t \t \t \t', 'aaaaaaaa', 'abababab', 'abcabcabc', '12345678', '98765432', 'abcdefgh', 'password', 'Password1', 'PASSWORD123', 'qwertyuiop', 'iloveyou', ' password ', 'ｐａｓｓｗｏｒｄ', 'pass\u00adword', 'password\u200b', '\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b', 'p\u0301assword', 'grace.hopper@example.test', 'grace.hopper1', 'xGRACE.HOPPERx']) {
      const reason = guessablePassword(weak, email);
      assert.ok(reason, `${JSON.stringify(weak)} accepted`);
      assert.doesNotMatch(reason, /[\\^$[\]]/, 'said in words, not a pattern');
    }
  });

  it('when a password is long and unremarkable, with spaces, symbols or any script, then it is accepted (no composition rules)', () => {
    for (const fine of ['correct horse battery staple', 'password-123', 'Tr0ub4dor&3', 'пароль-для-магазина', '東京タワーの夜景', 'a b c d e f', 'hopper', 'grace-9-lives', '73829164']) {
      assert.equal(guessablePassword(fine, email), null, fine);
    }
    // A short local part (under 4 characters) is not context: "bo" is inside too many words.
    assert.equal(guessablePassword('bonjour-le-monde', 'bo@example.test'), null);
  });

  it('when a password is among the common ones of breach corpora (the @zxcvbn-ts/language-common list), then it is refused as common, in any case, full-width or spaced', () => {
    for (const breached of ['passpass', 'testtest', 'mustang1', 'michael1', 'jessica1', 'blink182', 'hello123', 'batman123', 'qwerty1234', 'zxcvbnm123', '1q2w3e4r5t6y', 'Liverpool1']) {
      for (const sent of [breached, breached.toUpperCase(), ` ${breached} `, breached.replace(/[!-~]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0))]) {
        assert.equal(guessablePassword(sent, email), 'is one of the most common passwords; choose another', JSON.stringify(sent));
      }
    }
  });

  it('for any short unit repeated to 8 characters or more, then refused (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 3, unit: 'grapheme-ascii' }), fc.integer({ min: 8, max: 40 }), (unit, length) => {
        const password = unit.repeat(Math.ceil(length / unit.length)).slice(0, Math.max(length, unit.length));
        return guessablePassword(password, email) !== null;
      }),
    );
  });

  it('for any 16 letters and digits drawn at random that avoid the email, then accepted (property)', () => {
    const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: alphabet.length - 1 }), { minLength: 16, maxLength: 16 }), (picks) => {
        const password = picks.map((i) => alphabet[i]).join('');
        fc.pre(new Set(password).size > 3);
        return guessablePassword(password, email) === null;
      }),
    );
  });
});
