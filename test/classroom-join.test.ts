// Joining a class over real HTTP: every bad code and name gets a clear answer and changes nothing
// (malformed, unknown, closed codes; names with markup, control characters, right-to-left
// overrides or 10,000 characters; a taken name; a full class after 500 joins), and the same
// browser joining again is the same student.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, assertNoLeak } from './support/http.ts';
import { FIRST_LESSON, alertText, browse, createClass, join, joined, teacherPost } from './support/classroom.ts';
import { MAX_STUDENTS } from '../server/classroom/class-store.ts';

let lab: Lab;
before(async () => {
  // Limits far away: 500 joins come from one address here (classroom-limits.test.ts tests them).
  lab = await startLab({ limits: { joinsPerMinute: 100_000, joinsPerClassPerMinute: 100_000, unknownCodesPerMinute: 100_000, teacherRequestsPerMinute: 100_000 } });
});
after(() => lab.stop());

async function names(code: string): Promise<string[]> {
  const rows = await lab.db.all<{ name: string }>('SELECT s.name FROM class_students s JOIN classes c ON c.id = s.class_id WHERE c.code = ? ORDER BY s.joined_at, s.name', [code]);
  return rows.map((r) => r.name);
}

describe('joining', () => {
  it('shows the form at /join and, at /join/CODE, the class it names with the code filled in', async () => {
    const cls = await createClass(lab.baseUrl, 'Cookies & <i>cream</i>');
    const empty = await browse(new CookieClient(lab.baseUrl), '/join');
    assert.equal(empty.status, 200);
    assert.match(empty.text, /name="code"/);
    const named = await browse(new CookieClient(lab.baseUrl), `/join/${cls.code.toLowerCase()}`);
    assert.equal(named.status, 200);
    assert.match(named.text, new RegExp(`value="${cls.code.slice(0, 3)}-${cls.code.slice(3)}"`));
    assert.match(named.text, /Cookies &amp; &lt;i&gt;cream&lt;\/i&gt;/);
  });

  it('puts the student where the class is, and the same browser joining again is the same student', async () => {
    const cls = await createClass(lab.baseUrl, 'Again', [FIRST_LESSON]);
    const ada = new CookieClient(lab.baseUrl);
    const first = await join(ada, `${cls.code.slice(0, 3)}-${cls.code.slice(3)}`.toLowerCase(), '  Ada  ');
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), `/lessons/${FIRST_LESSON}`);
    const again = await join(ada, cls.code, 'Another name');
    assert.equal(again.status, 303);
    assert.deepEqual(await names(cls.code), ['Ada']);
    const page = await browse(ada, `/join/${cls.code}`);
    assert.match(page.text, /already in this class as <strong>Ada<\/strong>/);
  });

  const badCodes: [string, string, number, RegExp][] = [
    ['an empty code', '', 400, /six letters and digits/],
    ['a code with look-alikes', 'AC0EF1', 400, /six letters and digits/],
    ['markup', '<script>', 400, /six letters and digits/],
    ['10,000 characters', 'A'.repeat(10_000), 400, /six letters and digits/],
    ['a code no class has', 'ACDEFG', 404, /no class has the code ACD-EFG/],
  ];
  for (const [what, code, status, reason] of badCodes) {
    it(`refuses ${what} (${status}) with the reason, keeping the typed name`, async () => {
      const res = await join(new CookieClient(lab.baseUrl), code, 'Ada <b>');
      assert.equal(res.status, status);
      assertNoLeak(res);
      assert.match(alertText(res), reason);
      assert.match(res.text, /value="Ada &lt;b&gt;"/);
      assert.doesNotMatch(res.text, /<script>/);
      const get = await browse(new CookieClient(lab.baseUrl), `/join/${encodeURIComponent(code.slice(0, 100)) || '%20'}`);
      assert.ok(get.status === status || (code === '' && get.status === 400), `GET /join/CODE: ${get.status}`);
    });
  }

  it('refuses a closed class\'s code (410) until it is reopened', async () => {
    const cls = await createClass(lab.baseUrl, 'Closed one', [FIRST_LESSON]);
    await teacherPost(cls, 'close');
    const res = await join(new CookieClient(lab.baseUrl), cls.code, 'Ada');
    assert.equal(res.status, 410);
    assert.match(alertText(res), /"Closed one" has ended/);
    assert.equal((await browse(new CookieClient(lab.baseUrl), `/join/${cls.code}`)).status, 410);
    assert.deepEqual(await names(cls.code), []);
  });

  it('cleans names: markup kept as text and escaped, control characters and right-to-left overrides removed', async () => {
    const cls = await createClass(lab.baseUrl, 'Names', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, '<img src=x onerror=alert(1)>');
    await joined(lab.baseUrl, cls.code, 'Eve\u202Egnp.exe\u0007\u200B');
    assert.deepEqual(await names(cls.code), ['<img src=x onerror=alert(1)>', 'Evegnp.exe']);
    const page = await browse(cls.teacher, cls.base);
    assert.match(page.text, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.doesNotMatch(page.text, /<img src=x/);
    assert.doesNotMatch(page.text, /\u202E/);
  });

  const badNames: [string, string, RegExp][] = [
    ['an empty name', '', /display name/],
    ['only control characters and overrides', '\u0000\u202E\u200B\u0007', /display name/],
    ['41 characters', 'x'.repeat(41), /at most 40/],
    ['10,000 characters', 'y'.repeat(10_000), /at most 40/],
  ];
  for (const [what, name, reason] of badNames) {
    it(`refuses ${what} (400) and adds nobody`, async () => {
      const cls = await createClass(lab.baseUrl, 'Bad names', [FIRST_LESSON]);
      const res = await join(new CookieClient(lab.baseUrl), cls.code, name);
      assert.equal(res.status, 400);
      assertNoLeak(res);
      assert.match(alertText(res), reason);
      assert.ok(res.text.length < 20_000, 'the 10,000 characters are not echoed back whole');
      assert.deepEqual(await names(cls.code), []);
    });
  }

  it('refuses a name taken in the class, in any case (409), but not one taken in another class', async () => {
    const cls = await createClass(lab.baseUrl, 'Taken', [FIRST_LESSON]);
    const other = await createClass(lab.baseUrl, 'Other', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, 'Ada');
    const res = await join(new CookieClient(lab.baseUrl), cls.code, 'ADA');
    assert.equal(res.status, 409);
    assert.match(alertText(res), /"ADA" is already taken/);
    await joined(lab.baseUrl, other.code, 'Ada');
    assert.deepEqual(await names(cls.code), ['Ada']);
  });

  it(`takes ${MAX_STUDENTS} students and answers the rest of 500 joins with a clear "full" (409)`, async () => {
    const cls = await createClass(lab.baseUrl, 'Crowd', [FIRST_LESSON]);
    const statuses: number[] = [];
    let refusal = '';
    // In batches of 23, which straddle the limit: joins arriving together must not slip past it.
    for (let batch = 0; batch < 500; batch += 23) {
      const answers = await Promise.all(Array.from({ length: Math.min(23, 500 - batch) }, (_, i) => join(new CookieClient(lab.baseUrl), cls.code, `Student ${batch + i}`)));
      for (const answer of answers) {
        statuses.push(answer.status);
        if (answer.status !== 303) {
          assertNoLeak(answer);
          refusal = alertText(answer);
        }
      }
    }
    assert.equal(statuses.filter((s) => s === 303).length, MAX_STUDENTS);
    assert.equal(statuses.filter((s) => s === 409).length, 500 - MAX_STUDENTS);
    assert.match(refusal, /is full/);
    assert.equal((await names(cls.code)).length, MAX_STUDENTS);
    const page = await browse(cls.teacher, cls.base);
    assert.match(page.text, new RegExp(`Students \\(${MAX_STUDENTS}\\)`));
  });
});
