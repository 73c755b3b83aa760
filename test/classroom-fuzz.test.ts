// Hostile bodies on every classroom form (JSON with __proto__ keys, arrays where text is expected,
// markup, huge and broken strings): never a 500 or a leaked stack, never markup echoed unescaped,
// and the class still works afterwards. Reproduce a failure with FC_SEED=<seed>; FUZZ_SCALE=10 runs
// ten times as many cases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient } from './support/http.ts';
import { fuzzRuns, nastyString } from './support/hostile.ts';
import { ENCODINGS, NO_CLASS_LIMITS, PLANTED_MARKUP, assertHarmless, hostileBody, hostilePost } from './support/hostile-forms.ts';
import { FIRST_LESSON, createClass, joined, type TestClass } from './support/classroom.ts';

let lab: Lab;
let cls: TestClass;
let student: CookieClient;

before(async () => {
  lab = await startLab({ limits: NO_CLASS_LIMITS });
  cls = await createClass(lab.baseUrl, 'Fuzz', [FIRST_LESSON]);
  student = await joined(lab.baseUrl, cls.code, 'Ada');
});
after(() => lab.stop());

/** The fields each form reads, so that most bodies reach past the first check. */
const FORMS: { name: string; path: () => string; fields: string[]; who: () => CookieClient }[] = [
  { name: '/teach', path: () => '/teach', fields: ['title', 'lessons'], who: () => new CookieClient(lab.baseUrl) },
  { name: '/join', path: () => '/join', fields: ['code', 'name'], who: () => new CookieClient(lab.baseUrl) },
  { name: '/class/following', path: () => '/class/following', fields: ['following', 'back'], who: () => student },
  { name: '/class/consent', path: () => '/class/consent', fields: ['consent', 'back'], who: () => student },
  { name: '/teach/<token>/send', path: () => `${cls.base}/send`, fields: ['where', 'preset'], who: () => cls.teacher },
  { name: '/teach/<token>/message', path: () => `${cls.base}/message`, fields: ['message', 'action'], who: () => cls.teacher },
  { name: '/teach/<token>/reset', path: () => `${cls.base}/reset`, fields: ['confirm'], who: () => cls.teacher },
];

describe('classroom forms under hostile input', () => {
  for (const form of FORMS) {
    it(`POST ${form.name}: never a 500, never markup echoed`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileBody(form.fields), fc.constantFrom(...ENCODINGS), async (value, as) => {
          await assertHarmless(await form.who().request(form.path(), hostilePost(value, as)));
        }),
        fuzzRuns(40),
      );
    });
  }

  it('hostile join names and codes never reach a page unescaped', async () => {
    await fc.assert(
      fc.asyncProperty(nastyString, async (name) => {
        const res = await new CookieClient(lab.baseUrl).request('/join', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ code: cls.code, name }).toString() });
        assert.ok(res.status === 303 || (res.status >= 400 && res.status < 500), String(res.status));
      }),
      fuzzRuns(60),
    );
    const page = await cls.teacher.request(cls.base, { headers: { accept: 'text/html' } });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.doesNotMatch(html, PLANTED_MARKUP);
  });

  it('leaves the class working', async () => {
    const res = await student.request('/class/bar', { headers: { accept: 'text/html', 'hx-request': 'true' } });
    assert.equal(res.status, 200);
  });
});
