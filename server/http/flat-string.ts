// V8 keeps a string built by concatenation as a tree of its pieces (a rope). A page that embeds a
// long-lived rope (a lesson's Markdown as marked rendered it, a sandbox's cached panels) walks
// that whole tree again on every answer, when the page is encoded to send (docs/performance.md has the
// cost). Turning a string into a number makes V8 flatten
// it in place, once (the trick of the flatstr package); the string's value never changes.

/** The same string, stored flat from now on. For strings kept and embedded in many pages. */
export function flatten(text: string): string {
  Number(text);
  return text;
}

/** Flattens every string inside plain data (objects and arrays), in place. */
export function flattenStrings<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'string') flatten(value);
  else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const item of Array.isArray(value) ? value : Object.values(value)) flattenStrings(item, seen);
  }
  return value;
}
