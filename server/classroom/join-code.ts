// Join codes and teacher tokens. A code is read aloud and typed by 40 students: six characters
// from an alphabet without the look-alikes 0/O, 1/I/l, 2/Z, 5/S, 8/B, shown in two halves
// ("K7Q-4XM"). The teacher's token is 32 random bytes; only its SHA-256 is stored.
import { createHash, randomBytes, randomInt } from 'node:crypto';

export const CODE_ALPHABET = 'ACDEFGHJKMNPQRTUVWXY34679';
export const CODE_LENGTH = 6;

export function newJoinCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** How a code is shown: two halves of three, easier to read aloud. */
export function displayCode(code: string): string {
  return `${code.slice(0, 3)}-${code.slice(3)}`;
}

/**
 * What a student typed, as a stored code, or null if it cannot be one. Case, spaces and dashes
 * do not matter, and the look-alikes a student may type for a letter are read as that letter's
 * twin in the alphabet only where there is no doubt (O and 0 are neither: they are refused).
 */
export function normalizeJoinCode(typed: unknown): string | null {
  if (typeof typed !== 'string' || typed.length > 40) return null;
  const code = typed.toUpperCase().replace(/[\s\-_.]/g, '');
  if (code.length !== CODE_LENGTH) return null;
  for (const ch of code) if (!CODE_ALPHABET.includes(ch)) return null;
  return code;
}

export function newTeacherToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token as it can appear in a URL: anything else is not looked up at all. */
export function looksLikeToken(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

export function newId(): string {
  return randomBytes(12).toString('base64url');
}
