// What makes a password too easy to guess, after NIST SP 800-63B (5.1.1.2): no composition rules (any
// characters, spaces included, count), but a new password is compared with values known to be common or
// expected, and with the account's own context. Length is the schema's (8..128), and at least 8 once normalized.

/** 800-63B's minimum, in code points; the schema's minLength too. */
export const PASSWORD_MIN_LENGTH = 8;

/** Among the most used passwords of 8 characters or more in public breach corpora, lower-cased. */
const COMMON = new Set([
  '12345678', '123456789', '1234567890', '12345678910', '11111111', '00000000', '88888888', '87654321', '12341234',
  '11223344', '123123123', '147258369', '987654321', '1q2w3e4r', '1q2w3e4r5t', '1qaz2wsx', 'zaq12wsx', 'qwertyui',
  'qwertyuiop', 'qwerty123', 'qwerty12', 'asdfghjk', 'asdfghjkl', 'asdfasdf', 'zxcvbnm1', 'password', 'password1',
  'password12', 'password123', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'iloveyou', 'iloveyou1', 'sunshine', 'princess',
  'football', 'baseball', 'welcome1', 'welcome123', 'abc12345', 'abcd1234', 'abcdefgh', 'superman', 'trustno1',
  'starwars', 'whatever', 'letmein1', 'letmein123', 'computer', 'michelle', 'jennifer', 'corvette', 'mercedes',
  'changeme', 'admin123', 'administrator', 'secret123', 'dragon123', 'monkey123', 'shadow123', 'master123',
  'football1', 'charlie1', 'jordan23', 'liverpool', 'chocolate', 'butterfly', 'basketball', 'minecraft',
  'pokemon1', 'samsung1', 'internet', 'qazwsxedc', 'q1w2e3r4', 'q1w2e3r4t5', '1a2b3c4d', 'aaaaaaaa',
]);

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
