// Hostile input on the dashboard's and projector's routes (JSON with __proto__ keys, arrays where
// text is expected, markup, huge and broken strings, in bodies and in the lesson query): never a
// 500 or a leaked stack, never markup echoed unescaped, and the dashboard still answers afterwards.
// The same generators as the classroom forms' (test/classroom-fuzz.test.ts). Reproduce a failure
// with FC_SEED=<seed>; FUZZ_SCALE=10 runs ten times as many cases.
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

before(async () => {
  lab = await startLab({ limits: NO_CLASS_LIMITS });
  cls = await createClass(lab.baseUrl, 'Fuzz', [FIRST_LESSON]);
  await joined(lab.baseUrl, cls.code, '<script>alert(1)</script>');
});
after(() => lab.stop());

const FORMS: { name: string; path: () => string; fields: string[] }[] = [
  { name: 'dashboard/bars', path: () => `${cls.base}/dashboard/bars`, fields: ['lesson', 'show'] },
  { name: 'dashboard/project', path: () => `${cls.base}/dashboard/project`, fields: ['lesson', 'task', 'group'] },
  { name: 'dashboard/project/stop', path: () => `${cls.base}/dashboard/project/stop`, fields: ['lesson'] },
];

describe('the dashboard under hostile input', () => {
  for (const form of FORMS) {
    it(`POST ${form.name}: never a 500, never markup echoed`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileBody(form.fields), fc.constantFrom(...ENCODINGS), async (value, as) => {
          await assertHarmless(await cls.teacher.request(form.path(), hostilePost(value, as)));
        }),
        fuzzRuns(40),
      );
    });
  }

  it('GET with a hostile lesson query or code: never a 500, never markup echoed', async () => {
    await fc.assert(
      fc.asyncProperty(nastyString, fc.boolean(), async (value, live) => {
        const q = new URLSearchParams({ lesson: value }).toString();
        await assertHarmless(await cls.teacher.request(`${cls.base}/dashboard${live ? '/live' : ''}?${q}`, { headers: { accept: 'text/html', ...(live ? { 'hx-request': 'true' } : {}) } }));
        // A lone surrogate goes out as U+FFFD, as a browser's URL parser sends it (encodeURIComponent would throw).
        await assertHarmless(await new CookieClient(lab.baseUrl).request(`/projector/${encodeURIComponent(Buffer.from(value).toString())}${live ? '/live' : ''}`, { headers: { accept: 'text/html' } }));
      }),
      fuzzRuns(60),
    );
  });

  it('leaves the dashboard and projector working, the student\'s name escaped', async () => {
    const page = await cls.teacher.request(`${cls.base}/dashboard`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.doesNotMatch(html, PLANTED_MARKUP);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    const screen = await new CookieClient(lab.baseUrl).request(`/projector/${cls.code.replace('-', '')}`, { headers: { accept: 'text/html' } });
    assert.equal(screen.status, 200);
  });
});
