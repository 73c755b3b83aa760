// The teacher's side of a class over real HTTP: creating one (every bad form refused with its
// reason), the private page, each control, the export, and that no control works without the
// class's own token (none, malformed, unknown or another class's): a clear 404, nothing changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, assertNoLeak } from './support/http.ts';
import { FIRST_LESSON, SECOND_LESSON, alertText, browse, createClass, join, joined, studentIds, teacherPost, visibleText } from './support/classroom.ts';

let lab: Lab;
before(async () => {
  // Limits far away: their own tests are in classroom-limits.test.ts.
  lab = await startLab({ limits: { teacherRequestsPerMinute: 100_000, classRequestsPerMinute: 100_000, unknownTokensPerMinute: 100_000, classesPerMinute: 1000 } });
});
after(() => lab.stop());

async function classRow(token: string) {
  const { ClassStore } = await import('../server/classroom/class-store.ts');
  return new ClassStore(lab.db).byToken(token);
}

describe('creating a class', () => {
  it('shows the form, then creates the class and redirects to the private page with the code, join link and dashboard link', async () => {
    const form = await browse(new CookieClient(lab.baseUrl), '/teach');
    assert.equal(form.status, 200);
    assert.match(form.text, /name="title"/);
    assert.match(form.text, new RegExp(`value="${FIRST_LESSON}"`));
    const cls = await createClass(lab.baseUrl, 'Cookies <b>101</b>');
    const page = await browse(cls.teacher, cls.base);
    assert.match(page.text, new RegExp(`href="/join/${cls.code}"`));
    assert.match(page.text, new RegExp(`href="${cls.base}/dashboard"`));
    assert.match(page.text, /Cookies &lt;b&gt;101&lt;\/b&gt;/, 'the title is escaped');
    assert.doesNotMatch(page.text, /<b>101<\/b>/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });

  const bad: [string, Record<string, string | string[]>, RegExp][] = [
    ['no title', { lessons: [FIRST_LESSON] }, /title/],
    ['a title of spaces and control characters', { title: ' \u202E\u0000 ', lessons: [FIRST_LESSON] }, /title/],
    ['a 10,000-character title', { title: 'x'.repeat(10_000), lessons: [FIRST_LESSON] }, /at most 80/],
    ['no lesson', { title: 'A class' }, /at least one lesson/],
    ['an unknown lesson', { title: 'A class', lessons: ['no-such-lesson'] }, /no lesson "no-such-lesson"/],
  ];
  for (const [what, form, reason] of bad) {
    it(`refuses ${what} with the reason, and creates nothing`, async () => {
      const before = await lab.db.get<{ n: number }>('SELECT count(*) AS n FROM classes');
      const res = await browse(new CookieClient(lab.baseUrl), '/teach', { form });
      assert.equal(res.status, 400);
      assertNoLeak(res);
      assert.match(alertText(res), reason);
      const after = await lab.db.get<{ n: number }>('SELECT count(*) AS n FROM classes');
      assert.equal(Number(after?.n), Number(before?.n));
    });
  }

  it('refuses a JSON body of the wrong shape with a clear 400, never a 500', async () => {
    const res = await new CookieClient(lab.baseUrl).request('/teach', { method: 'POST', json: { title: { $ne: 1 }, lessons: { a: 1 } }, headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
  });

  it('refuses a lesson sent as an object that cannot be turned into text, saying why (the fuzz counterexample)', async () => {
    const text = '{"lessons": {"toString": null, "__proto__": false}}';
    const res = await new CookieClient(lab.baseUrl).request('/teach', { method: 'POST', body: text, headers: { accept: 'text/html', 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /named by its slug, as text/);
  });
});

describe('the teacher page controls', () => {
  it('sends the class to a lesson, a task, and a task with a preset; refuses what is not the class\'s or not valid', async () => {
    const cls = await createClass(lab.baseUrl, 'Sends', [FIRST_LESSON]);
    const refusals: [Record<string, string>, RegExp][] = [
      [{}, /choose where/],
      [{ where: SECOND_LESSON }, /lesson or task of this class/],
      [{ where: `${FIRST_LESSON}/no-such-task` }, /no such task/],
      [{ where: `${FIRST_LESSON}/get-a-cookie/x` }, /lesson or task of this class/],
      [{ where: FIRST_LESSON, preset: '{not json' }, /not valid JSON/],
      [{ where: FIRST_LESSON, preset: '{"cookie": {"path": "/"}}' }, /cookie\.path/],
      [{ where: FIRST_LESSON, preset: '{"name": "cookielab.sid"}' }, /name/],
      [{ where: FIRST_LESSON, preset: '{"__proto__": {"x": 1}}' }, /__proto__/],
      [{ where: FIRST_LESSON, preset: 'x'.repeat(5000) }, /at most 2000/],
    ];
    for (const [form, reason] of refusals) {
      const res = await teacherPost(cls, 'send', form);
      assert.equal(res.status, 400, JSON.stringify(form).slice(0, 80));
      assert.match(alertText(res), reason);
      assert.equal((await classRow(cls.token))?.targetSeq, 0, 'nothing sent');
    }
    const sent = await teacherPost(cls, 'send', { where: `${FIRST_LESSON}/get-a-cookie`, preset: '{"cookie": {"httpOnly": false}}' });
    assert.equal(sent.status, 303);
    const record = await classRow(cls.token);
    assert.equal(record?.targetSeq, 1);
    assert.deepEqual(record?.target, { lesson: FIRST_LESSON, task: 'get-a-cookie', preset: { cookie: { httpOnly: false } } });
    const page = await browse(cls.teacher, cls.base);
    assert.match(visibleText(page.text), /Now at: Lesson 1: What a session cookie is, task "Get a session cookie"/);
  });

  it('shows a message (escaped, cleaned, limited in length) and clears it', async () => {
    const cls = await createClass(lab.baseUrl, 'Messages', [FIRST_LESSON]);
    for (const [message, reason] of [['', /write a message/], ['  \u200B ', /write a message/], ['m'.repeat(201), /at most 200/], ['m'.repeat(10_000), /at most 200/]] as const) {
      const res = await teacherPost(cls, 'message', { message, action: 'show' });
      assert.equal(res.status, 400);
      assert.match(alertText(res), reason);
    }
    assert.equal((await classRow(cls.token))?.message, null);
    assert.equal((await teacherPost(cls, 'message', { message: 'Look at <script>alert(1)</script>\u202Enow', action: 'show' })).status, 303);
    assert.equal((await classRow(cls.token))?.message, 'Look at <script>alert(1)</script> now');
    const page = await browse(cls.teacher, cls.base);
    assert.doesNotMatch(page.text, /<script>alert/);
    assert.equal((await teacherPost(cls, 'message', { action: 'clear' })).status, 303);
    assert.equal((await classRow(cls.token))?.message, null);
  });

  it('removes a student (their progress stays theirs) and refuses a student of another class', async () => {
    const cls = await createClass(lab.baseUrl, 'Removing', [FIRST_LESSON]);
    const other = await createClass(lab.baseUrl, 'Other', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, 'Ada');
    await joined(lab.baseUrl, other.code, 'Bob');
    const bob = (await studentIds(other)).get('Bob')!;
    const wrong = await teacherPost(cls, `students/${bob}/remove`);
    assert.equal(wrong.status, 404);
    assert.match(alertText(wrong), /no such student/);
    assert.equal((await studentIds(other)).size, 1, "another class's student is untouched");
    const ada = (await studentIds(cls)).get('Ada')!;
    assert.equal((await teacherPost(cls, `students/${ada}/remove`)).status, 303);
    assert.equal((await studentIds(cls)).size, 0);
    assert.equal((await teacherPost(cls, `students/${ada}/remove`)).status, 404, 'twice: a clear 404');
  });

  it('resets one student, or (with a confirmation) the whole class, in the class\'s lessons only', async () => {
    const cls = await createClass(lab.baseUrl, 'Resets', [FIRST_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    const bob = await joined(lab.baseUrl, cls.code, 'Bob');
    const learnerOf = async (name: string) => (await lab.db.get<{ learner_id: string }>('SELECT s.learner_id FROM class_students s JOIN classes c ON c.id = s.class_id WHERE c.code = ? AND s.name = ?', [cls.code, name]))!.learner_id;
    for (const name of ['Ada', 'Bob']) {
      await lab.progress.markSolved(await learnerOf(name), FIRST_LESSON, 'get-a-cookie');
      await lab.progress.markSolved(await learnerOf(name), SECOND_LESSON, 'read-the-value');
    }
    const solved = async (name: string, lesson: string) => (await lab.progress.forLesson(await learnerOf(name), lesson)).solved.size;
    const adaId = (await studentIds(cls)).get('Ada')!;
    assert.equal((await teacherPost(cls, `students/${adaId}/reset`)).status, 303);
    assert.equal(await solved('Ada', FIRST_LESSON), 0);
    assert.equal(await solved('Ada', SECOND_LESSON), 1, 'a lesson the class does not cover stays as it was');
    assert.equal(await solved('Bob', FIRST_LESSON), 1, 'another student is untouched');
    const unconfirmed = await teacherPost(cls, 'reset');
    assert.equal(unconfirmed.status, 400);
    assert.match(alertText(unconfirmed), /confirm/);
    assert.equal(await solved('Bob', FIRST_LESSON), 1);
    assert.equal((await teacherPost(cls, 'reset', { confirm: 'yes' })).status, 303);
    assert.equal(await solved('Bob', FIRST_LESSON), 0);
    assert.ok(ada && bob);
  });

  it('closes the class (the code stops working, the page still shows the results) and reopens it', async () => {
    const cls = await createClass(lab.baseUrl, 'Closing', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, 'Ada');
    assert.equal((await teacherPost(cls, 'close')).status, 303);
    const late = await join(new CookieClient(lab.baseUrl), cls.code, 'Late');
    assert.equal(late.status, 410);
    assert.match(alertText(late), /has ended/);
    const page = await browse(cls.teacher, cls.base);
    assert.equal(page.status, 200);
    assert.match(page.text, /This class is closed/);
    assert.match(page.text, /<th scope="row">Ada<\/th>/);
    assert.match(page.text, /results\.csv/);
    const refused = await teacherPost(cls, 'send', { where: FIRST_LESSON });
    assert.equal(refused.status, 409);
    assert.match(alertText(refused), /closed/);
    assert.equal((await browse(cls.teacher, `${cls.base}/results.csv`)).status, 200);
    assert.equal((await teacherPost(cls, 'reopen')).status, 303);
    assert.equal((await join(new CookieClient(lab.baseUrl), cls.code, 'Late')).status, 303);
  });
});

describe('the export', () => {
  it('gives every student and task as CSV (quoted, formulas defused) and JSON', async () => {
    const cls = await createClass(lab.baseUrl, 'Export', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, '=HYPERLINK("http://evil","x")');
    await joined(lab.baseUrl, cls.code, 'Zoë, "the" tester');
    const learner = (await lab.db.get<{ learner_id: string }>("SELECT learner_id FROM class_students WHERE name LIKE 'Zo%'"))!.learner_id;
    await lab.progress.markSolved(learner, FIRST_LESSON, 'get-a-cookie');
    await lab.progress.showHints(learner, FIRST_LESSON, 'data-stays-in-store', 2);
    const csv = await browse(cls.teacher, `${cls.base}/results.csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    assert.match(csv.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="cookie-lab-class-${cls.code}-results.csv"`));
    const lines = csv.text.replace(/^\uFEFF/, '').split('\r\n');
    assert.equal(lines[0], '"student","lesson","task","solved_at","hints_used"');
    assert.ok(lines.includes(`"'=HYPERLINK(""http://evil"",""x"")","${FIRST_LESSON}","get-a-cookie","","0"`), lines.slice(0, 3).join('\n'));
    const solvedLine = lines.find((line) => line.startsWith('"Zoë, ""the"" tester","what-a-session-cookie-is","get-a-cookie",'));
    assert.match(solvedLine ?? '', /^"Zoë, ""the"" tester","what-a-session-cookie-is","get-a-cookie","\d{4}-\d\d-\d\dT[\d:.]+Z","0"$/);
    assert.ok(lines.includes(`"Zoë, ""the"" tester","${FIRST_LESSON}","data-stays-in-store","","2"`));
    const json = await browse(cls.teacher, `${cls.base}/results.json`);
    const data = json.json as { format: string; results: { student: string; task: string; solvedAt: string | null; hintsUsed: number }[] };
    assert.equal(data.format, 'cookie-lab-class-results');
    assert.equal(data.results.length, lines.length - 2, 'the same rows as the CSV');
    assert.ok(data.results.some((r) => r.student === 'Zoë, "the" tester' && r.task === 'get-a-cookie' && r.solvedAt !== null));
  });
});

describe('without the class\'s own token', () => {
  it('answers every teacher route with a clear 404 and changes nothing: no token, malformed, unknown, another class\'s student', async () => {
    const cls = await createClass(lab.baseUrl, 'Locked', [FIRST_LESSON]);
    await joined(lab.baseUrl, cls.code, 'Ada');
    const ada = (await studentIds(cls)).get('Ada')!;
    const stranger = new CookieClient(lab.baseUrl);
    const unknown = 'A'.repeat(43);
    const routes: [string, string, Record<string, string>?][] = [
      ['GET', ''],
      ['POST', '/send', { where: FIRST_LESSON }],
      ['POST', '/message', { message: 'hi', action: 'show' }],
      ['POST', `/students/${ada}/remove`],
      ['POST', `/students/${ada}/reset`],
      ['POST', '/reset', { confirm: 'yes' }],
      ['POST', '/close'],
      ['POST', '/reopen'],
      ['GET', '/results.csv'],
      ['GET', '/results.json'],
    ];
    for (const token of [unknown, 'short', cls.token.slice(0, 42) + (cls.token.endsWith('A') ? 'B' : 'A'), '%00', cls.token.toLowerCase() === cls.token ? unknown : cls.token.toLowerCase()]) {
      for (const [method, path, form] of routes) {
        const res = await browse(stranger, `/teach/${token}${path}`, { method, form: method === 'POST' ? (form ?? {}) : undefined });
        assert.equal(res.status, 404, `${method} /teach/<${token.slice(0, 6)}…>${path}: ${res.status}`);
        assert.match(alertText(res), /no class has this teacher link|nothing at/);
        assertNoLeak(res);
        assert.doesNotMatch(res.text, new RegExp(cls.code), 'nothing of the class shows');
      }
    }
    const record = await classRow(cls.token);
    assert.equal(record?.targetSeq, 0);
    assert.equal(record?.message, null);
    assert.equal(record?.closedAt, null);
    assert.equal((await studentIds(cls)).size, 1);
  });
});
