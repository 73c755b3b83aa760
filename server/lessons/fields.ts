// Small readers for a lesson file's parsed YAML (a mapping with known keys, a list, a text) that
// fail with a message naming where in the file the value sits.

/** Throws the lesson's error for `where` (a path such as `task "sign": solution[1]`). */
export type Fail = (where: string, message: string) => never;

/**
 * The keys of an object type, listed at run time. Pass every key of T as `key: true`: the type
 * checker rejects a list with a key missing or one T does not have, so the list and the type
 * cannot drift apart.
 */
export function keysOf<T>(keys: Record<keyof T & string, true>): readonly (keyof T & string)[] {
  return Object.keys(keys) as (keyof T & string)[];
}

/** Fails on the first key that `allowed` does not list, saying what `what` takes. */
export function knownKeys(value: Record<string, unknown>, allowed: readonly string[], what: string, where: string, fail: Fail): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(where, `unknown key ${JSON.stringify(key)}; ${what} takes: ${allowed.join(', ')}`);
  }
}

export function object(value: unknown, where: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(where, 'must be a mapping (key: value lines)');
  return value as Record<string, unknown>;
}

/** A mapping with at least one key, each of them one `allowed` lists. */
export function mapping(value: unknown, allowed: readonly string[], what: string, where: string, fail: Fail): Record<string, unknown> {
  const map = object(value, where, fail);
  knownKeys(map, allowed, what, where, fail);
  if (Object.keys(map).length === 0) fail(where, `must not be empty; ${what} takes: ${allowed.join(', ')}`);
  return map;
}

export function array(value: unknown, where: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(where, 'must be a list (lines starting with "- ")');
  return value;
}

export function nonEmpty(list: unknown[], where: string, fail: Fail): unknown[] {
  if (list.length === 0) fail(where, 'must list at least one item');
  return list;
}

export function text(value: unknown, where: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(where, 'must be a non-empty text');
  return value;
}

export function boolean(value: unknown, where: string, fail: Fail): boolean {
  if (typeof value !== 'boolean') return fail(where, 'must be true or false');
  return value;
}

/** One of `allowed`, named in the message when it is not. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string, fail: Fail): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) return fail(where, `must be one of: ${allowed.join(', ')}`);
  return value as T;
}

/** A whole number from `min` to `max`. */
export function whole(value: unknown, min: number, max: number, where: string, fail: Fail, message: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return fail(where, message);
  return value;
}
