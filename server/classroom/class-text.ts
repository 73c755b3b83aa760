// The teacher's own words: a class's title and the message shown to the whole class. Both reach
// 40 screens and a projector, so they are cleaned the way student names are (no control or
// formatting characters, such as right-to-left overrides, which could reverse the text after
// them), limited in length, and escaped wherever they are rendered.

export const MAX_TITLE_LENGTH = 80;
export const MAX_MESSAGE_LENGTH = 200;

export class ClassTextError extends Error {
  constructor(
    readonly field: 'title' | 'message',
    message: string,
  ) {
    super(message);
  }
}

function clean(typed: unknown, field: 'title' | 'message', max: number, what: string): string {
  if (typeof typed !== 'string') throw new ClassTextError(field, `write ${what}`);
  // Anything this long is not a title or a banner; refused before any work is done on it.
  if (typed.length > 20 * max) throw new ClassTextError(field, `${what} is at most ${max} characters`);
  const text = typed
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  if (!text) throw new ClassTextError(field, `write ${what} (not only spaces or control characters)`);
  const length = [...text].length;
  if (length > max) throw new ClassTextError(field, `${what} is at most ${max} characters; this one is ${length}`);
  return text;
}

export function cleanTitle(typed: unknown): string {
  return clean(typed, 'title', MAX_TITLE_LENGTH, 'a title for the class');
}

export function cleanMessage(typed: unknown): string {
  return clean(typed, 'message', MAX_MESSAGE_LENGTH, 'a message');
}
