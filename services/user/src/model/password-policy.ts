// What makes a password too easy to guess, after NIST SP 800-63B (5.1.1.2): no composition rules (any
// characters, spaces included, count), but a new password is compared with values known to be common or
// expected (from breach corpora), and with the account's own context. Length is the schema's (8..128), and at
// least 8 once normalized.
import { dictionary } from '@zxcvbn-ts/language-common';

/** 800-63B's minimum, in code points; the schema's minLength too. */
export const PASSWORD_MIN_LENGTH = 8;

// Passwords seen most often in breach corpora: the zxcvbn project's ranked list (@zxcvbn-ts/language-common, MIT,
// 49,233 entries, all lower-case ASCII), the 8 characters or more of it (17,950; shorter ones are refused anyway).
// Read once, at start. A Set: about 1 MB of heap, an O(1) lookup; the package's own arrays stay loaded beside it.
const COMMON: ReadonlySet<string> = new Set(dictionary['passwords-common'].filter((p) => [...p].length >= PASSWORD_MIN_LENGTH));

/** Consecutive steps of +1 or -1 in code points all the way (12345678, abcdefgh, 98765432). */
function isSequence(chars: string[]): boolean {
  const codes = chars.map((c) => c.codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  return (step === 1 || step === -1) && codes.every((c, i) => i === 0 || c - codes[i - 1]! === step);
}

/** One short unit repeated to the end (aaaaaaaa, abababab, abcabcabc). */
function isRepetition(chars: string[]): boolean {
  for (let unit = 1; unit <= 3; unit++) {
    if (chars.every((c, i) => c === chars[i % unit])) return true;
  }
  return false;
}

/**
 * Why a new account's password is too easy to guess, in words for the customer; null when it is not.
 * `email` gives the context: a password built on the address's name is the first one an attacker tries.
 */
export function guessablePassword(password: string, email: string): string | null {
  // Compared as a person reads it: compatibility forms folded (full-width letters), case ignored, and invisible
  // format characters and accents (combining marks, once decomposed) left out ("pass\u00adword", "password\u200b" are "password").
  const folded = password.normalize('NFKD').toLowerCase().replace(/[\p{Cf}\p{Mn}]/gu, '');
  const chars = [...folded];
  if (folded.trim() === '') return 'must not be only spaces or invisible characters';
  if (isRepetition(chars) || isSequence(chars)) return 'must not be one character or a short group repeated, or a run like 12345678';
  if (COMMON.has(folded) || COMMON.has(folded.trim())) return 'is one of the most common passwords; choose another';
  const local = email.split('@')[0]!.toLowerCase();
  if (folded === email.toLowerCase() || (local.length >= 4 && folded.includes(local))) return 'must not contain your email address';
  return null;
}

/**
 * A password shorter than the minimum as it is hashed: passwords are hashed and compared in NFKC (passwords.ts), and
 * the schema counts the code points as sent, so 8 Hangul jamo (3 syllables once composed) or letters sent with
 * their accents as combining marks passed as 8 characters, and the account's password was the 3 composed ones.
 */
export function shortPassword(password: string): string | null {
  return [...password.normalize('NFKC')].length < PASSWORD_MIN_LENGTH ? `must be at least ${PASSWORD_MIN_LENGTH} characters long` : null;
}
