// Hostile bodies for a page's forms, as the classroom and dashboard fuzz suites send them: entries
// of the form's own fields (and names like __proto__) with any JSON value, sent as JSON, as a form,
// or as htmx's form; and the one verdict on every answer: no 500, no leak, no markup echoed.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertNoLeak } from './http.ts';
import { JsonObject, SPECIAL_NAMES, anyJson, toJsonText } from './hostile.ts';

/** Markup the generators plant, which must never come back unescaped. */
export const PLANTED_MARKUP = /<script>alert\(1\)<\/script>|<img src=x onerror|<svg onload/;

/** Rate limits far above anything a fuzz run reaches, so that every case reaches the form. */
const FAR = 1_000_000;
export const NO_CLASS_LIMITS = {
  joinsPerMinute: FAR,
  joinsPerClassPerMinute: FAR,
  unknownCodesPerMinute: FAR,
  teacherRequestsPerMinute: FAR,
  classRequestsPerMinute: FAR,
  classesPerMinute: FAR,
  projectorRequestsPerMinute: FAR,
};

/** A body of up to four entries, most of them the form's own fields. */
export const hostileBody = (fields: string[]): fc.Arbitrary<JsonObject> =>
  fc
    .array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_NAMES) }), anyJson), { maxLength: 4 })
    .map((entries) => new JsonObject(entries));

export const ENCODINGS = ['json', 'form', 'htmx'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** A POST's headers and body text for `value`; a form sends each non-text value as its JSON text. */
export function hostilePost(value: JsonObject, as: Encoding): { method: 'POST'; headers: Record<string, string>; body: string } {
  if (as === 'json') return { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/json' }, body: toJsonText(value) };
  const entries = value.entries.map(([k, v]) => [k, typeof v === 'string' ? v : toJsonText(v)] as [string, string]);
  const headers: Record<string, string> = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };
  if (as === 'htmx') headers['hx-request'] = 'true';
  return { method: 'POST', headers, body: new URLSearchParams(entries).toString() };
}

/** Whatever came in: no 500, no stack or server detail, and no planted markup echoed. */
export async function assertHarmless(res: Response): Promise<void> {
  const answer = await res.text();
  assert.ok(res.status < 500, `${res.status}: ${answer.slice(0, 300)}`);
  assertNoLeak({ status: res.status, headers: res.headers, text: answer, json: undefined });
  assert.doesNotMatch(answer, PLANTED_MARKUP);
}
