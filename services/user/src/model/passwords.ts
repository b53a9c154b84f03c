import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const PARAMS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * One password, however its characters were encoded: NFKC, as NIST SP 800-63B (5.1.1.2) asks before hashing. An
 * accent typed as one code point on one device and as a letter plus a combining mark on another (NFC and NFD,
 * alike on screen), or a full-width digit, made a right password wrong.
 */
function normalized(password: string): string {
  return password.normalize('NFKC');
}

export function hashPassword(password: string): Promise<string> {
  return hash(normalized(password), PARAMS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    const form = normalized(password);
    if (await verify(stored, form)) return true;
    // A hash stored before passwords were normalized is of the characters as they were sent: still accepted.
    return form !== password && (await verify(stored, password));
  } catch {
    return false;
  }
}

// Verified against when the email is unknown, so an unknown account costs the same time as a wrong password.
let dummy: Promise<string> | null = null;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword('not-a-real-password-just-timing');
  await verifyPassword(await dummy, password);
}
