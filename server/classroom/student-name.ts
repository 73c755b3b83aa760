// A student's display name, as typed into /join: no account, so the name is all the teacher sees.
// It is shown on a projector and a dashboard, so it is cleaned here once, and escaped wherever
// it is rendered (pug's #{}), never trusted as markup.

export const MAX_NAME_LENGTH = 40;

export class NameError extends Error {}

/**
 * The name to keep: Unicode-normalized (NFC), control and formatting characters removed (which
 * includes the right-to-left overrides and zero-width characters that could make one name look
 * like another, or reverse the text after it), runs of spaces collapsed. Throws with the reason
 * when nothing is left or it is too long.
 */
export function cleanName(typed: unknown): string {
  if (typeof typed !== 'string') throw new NameError('enter a display name');
  if (typed.length > 1000) throw new NameError(`a display name is at most ${MAX_NAME_LENGTH} characters`);
  const name = typed
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (!name) throw new NameError('enter a display name (letters, digits or symbols; not only spaces or control characters)');
  if ([...name].length > MAX_NAME_LENGTH) throw new NameError(`a display name is at most ${MAX_NAME_LENGTH} characters; "${[...name].slice(0, 12).join('')}…" is ${[...name].length}`);
  return name;
}

/** Two names that differ only in case or compatibility forms are the same name within a class. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLocaleLowerCase('en').replace(/\s+/g, ' ');
}
