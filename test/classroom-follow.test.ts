// The student's side of a class over real HTTP: the class bar on lesson and sandbox pages, its
// poll, following the teacher (moves, presets, a late joiner, a student at their own pace), the
// end of a class, failed checks recorded for the dashboard, two classes never mixing, a class
// surviving a restart, and the teacher's token in no student answer and no log line.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLab, testConfig, type Lab } from './support/lab.ts';
import { buildApp } from '../server/app.ts';
import { CookieClient, assertNoLeak, type Answer } from './support/http.ts';
import { visit } from './support/sandbox.ts';
import { FIRST_LESSON, SECOND_LESSON, browse, createClass, htmx, joined, studentIds, teacherPost, visibleText } from './support/classroom.ts';

let lab: Lab;
before(async () => {
  lab = await startLab({ limits: { teacherRequestsPerMinute: 100_000, joinsPerMinute: 100_000 } });
});
after(() => lab?.stop());

/** The class bar's poll, as the bar sends it. */
const poll = (student: CookieClient) => htmx(student, '/class/bar');
const follow = (student: CookieClient, on: boolean) => htmx(student, '/class/following', { method: 'POST', form: { following: on ? 'on' : 'off' } });

async function learnerOf(code: string, name: string): Promise<string> {
  const row = await lab.db.get<{ learner_id: string }>('SELECT s.learner_id FROM class_students s JOIN classes c ON c.id = s.class_id WHERE c.code = ? AND s.name = ?', [code, name]);
  return row!.learner_id;
}

describe('the class bar', () => {
  it('shows the class, the name and the teacher\'s message (escaped) on lesson and sandbox pages, and polls every 2 s', async () => {
    const cls = await createClass(lab.baseUrl, 'Bar <class>', [FIRST_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada <3');
    await teacherPost(cls, 'message', { message: 'Open <b>lesson 1</b> now', action: 'show' });
    const page = await browse(ada, `/lessons/${FIRST_LESSON}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<section class="class-bar" id="class-bar" aria-label="Your class">|id="class-bar"/);
    assert.match(page.text, /hx-get="\/class\/bar" hx-trigger="every 2s"/);
    const text = visibleText(page.text);
    assert.match(text, /Bar <class> · you are Ada <3/);
    assert.match(text, /Message from your teacher: Open <b>lesson 1<\/b> now/);
    assert.doesNotMatch(page.text, /<b>lesson 1<\/b>|<class>/, 'escaped');
    const sandboxPath = /data-sandbox-path="([^"]+)"/.exec(page.text)![1]!;
    const sandboxPage = await browse(ada, sandboxPath);
    assert.match(visibleText(sandboxPage.text), /you are Ada <3/);
    const bar = await poll(ada);
    assert.equal(bar.status, 200);
    assert.equal(bar.headers.get('hx-redirect'), null, 'nothing was sent since Ada joined');
    assert.match(visibleText(bar.text), /Open <b>lesson 1<\/b> now/);
    const stranger = await browse(new CookieClient(lab.baseUrl), `/lessons/${FIRST_LESSON}`);
    assert.doesNotMatch(stranger.text, /class-bar/, 'a learner in no class sees no bar');
  });

  it('refuses bad toggles with a clear answer', async () => {
    const cls = await createClass(lab.baseUrl, 'Toggles', [FIRST_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    for (const value of ['', 'yes', 'ON']) {
      const res = await htmx(ada, '/class/following', { method: 'POST', form: { following: value } });
      assert.equal(res.status, 400);
      assertNoLeak(res);
    }
    const outsider = await htmx(new CookieClient(lab.baseUrl), '/class/consent', { method: 'POST', form: { consent: 'on' } });
    assert.equal(outsider.status, 409);
    assert.match(outsider.text, /not in a class/);
    assert.equal((await htmx(ada, '/class/consent', { method: 'POST', form: { consent: 'on' } })).status, 200);
    const row = await lab.db.get<{ share_consent: number }>('SELECT share_consent FROM class_students WHERE learner_id = ?', [await learnerOf(cls.code, 'Ada')]);
    assert.equal(Number(row?.share_consent), 1);
    const plain = await browse(ada, '/class/following', { form: { following: 'off', back: `/lessons/${FIRST_LESSON}` } });
    assert.equal(plain.status, 303);
    assert.equal(plain.headers.get('location'), `/lessons/${FIRST_LESSON}`);
    const offsite = await browse(ada, '/class/following', { form: { following: 'off', back: 'https://evil.example/' } });
    assert.equal(offsite.headers.get('location'), '/lessons', 'a form never redirects off the lab');
  });
});

describe('following the teacher', () => {
  it('moves followers once per send, leaves a student at their own pace where they are, and catches them up when they follow again', async () => {
    const cls = await createClass(lab.baseUrl, 'Follow', [FIRST_LESSON, SECOND_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    const bob = await joined(lab.baseUrl, cls.code, 'Bob');
    assert.match(visibleText((await follow(bob, false)).text), /own pace/);
    await teacherPost(cls, 'send', { where: `${SECOND_LESSON}/change-the-secret` });
    const moved = await poll(ada);
    assert.equal(moved.headers.get('hx-redirect'), `/lessons/${SECOND_LESSON}?followed=1#task-change-the-secret`);
    assert.equal((await poll(ada)).headers.get('hx-redirect'), null, 'once per send');
    const bobBar = await poll(bob);
    assert.equal(bobBar.headers.get('hx-redirect'), null, 'Bob stays put');
    assert.match(visibleText(bobBar.text), /The class is at lesson 2, The secret signs, it does not encrypt: task "Change the secret and lose the session"/, 'and can go there by hand');
    assert.match(bobBar.text, new RegExp(`href="/lessons/${SECOND_LESSON}#task-change-the-secret"`));
    // A reload before the poll does not lose the move: it is the learner's, not the page's.
    await teacherPost(cls, 'send', { where: FIRST_LESSON });
    await browse(ada, `/lessons/${SECOND_LESSON}`);
    assert.equal((await poll(ada)).headers.get('hx-redirect'), `/lessons/${FIRST_LESSON}?followed=2`);
    const again = await follow(bob, true);
    assert.equal(again.headers.get('hx-redirect'), `/lessons/${FIRST_LESSON}?followed=2`, 'following again goes where the class is');
  });

  it('applies a preset to each follower\'s own sandbox of the lesson, creating it if needed', async () => {
    const cls = await createClass(lab.baseUrl, 'Preset', [FIRST_LESSON, SECOND_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    const bob = await joined(lab.baseUrl, cls.code, 'Bob');
    await follow(bob, false);
    await teacherPost(cls, 'send', { where: SECOND_LESSON, preset: '{"cookie": {"httpOnly": false}, "rolling": true}' });
    assert.ok((await poll(ada)).headers.get('hx-redirect'));
    const sandboxId = (await lab.progress.forLesson(await learnerOf(cls.code, 'Ada'), SECOND_LESSON)).sandboxId;
    const sandbox = await lab.registry.find(sandboxId!);
    assert.equal(sandbox?.options.cookie.httpOnly, false);
    assert.equal(sandbox?.options.rolling, true);
    assert.equal((await lab.progress.forLesson(await learnerOf(cls.code, 'Bob'), SECOND_LESSON)).sandboxId, null, "a student at their own pace: their sandboxes untouched");
  });

  it('lands a late joiner where the class is', async () => {
    const cls = await createClass(lab.baseUrl, 'Late', [FIRST_LESSON, SECOND_LESSON]);
    await teacherPost(cls, 'send', { where: `${SECOND_LESSON}/rotate-the-secret` });
    const late = new CookieClient(lab.baseUrl);
    const res = await browse(late, '/join', { form: { code: cls.code, name: 'Late' } });
    assert.equal(res.headers.get('location'), `/lessons/${SECOND_LESSON}?followed=1#task-rotate-the-secret`);
    assert.equal((await poll(late)).headers.get('hx-redirect'), null);
  });

  it('ends: students see it, keep their progress, and are moved no more; a removed student sees they left', async () => {
    const cls = await createClass(lab.baseUrl, 'Ending', [FIRST_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    const bob = await joined(lab.baseUrl, cls.code, 'Bob');
    await lab.progress.markSolved(await learnerOf(cls.code, 'Ada'), FIRST_LESSON, 'get-a-cookie');
    await teacherPost(cls, 'send', { where: FIRST_LESSON });
    await teacherPost(cls, 'close');
    const bar = await poll(ada);
    assert.equal(bar.headers.get('hx-redirect'), null);
    assert.match(visibleText(bar.text), /This class has ended/);
    assert.doesNotMatch(bar.text, /hx-trigger="every 2s"/, 'the poll stops');
    assert.equal((await lab.progress.forLesson(await learnerOf(cls.code, 'Ada'), FIRST_LESSON)).solved.size, 1);
    await teacherPost(cls, 'reopen');
    await teacherPost(cls, `students/${(await studentIds(cls)).get('Bob')}/remove`);
    const removed = await poll(bob);
    assert.match(visibleText(removed.text), /not in a class any more/);
    assert.doesNotMatch(removed.text, /every 2s/);
  });

  it("records a student's failed check (with its message) once per exchange, and their activity", async () => {
    const cls = await createClass(lab.baseUrl, 'Failures', [FIRST_LESSON]);
    const ada = await joined(lab.baseUrl, cls.code, 'Ada');
    const learner = await learnerOf(cls.code, 'Ada');
    await lab.db.run('UPDATE class_students SET last_active_at = 0 WHERE learner_id = ?', [learner]);
    const page = await browse(ada, `/lessons/${FIRST_LESSON}`);
    const sandboxId = /data-sandbox-path="\/sandbox\/([^"]+)"/.exec(page.text)![1]!;
    const { ClassStore } = await import('../server/classroom/class-store.ts');
    const store = new ClassStore(lab.db);
    const classId = (await store.byCode(cls.code))!.id;
    assert.deepEqual(await store.failures(classId, FIRST_LESSON), [], 'opening the page is no failure');
    await visit(ada, sandboxId);
    await browse(ada, `/lessons/${FIRST_LESSON}/tasks`);
    await browse(ada, `/lessons/${FIRST_LESSON}/tasks`);
    const failures = await store.failures(classId, FIRST_LESSON);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.task, 'get-a-cookie');
    assert.equal(failures[0]?.exchangeNumber, 1);
    assert.ok((failures[0]?.detail ?? '').length > 5, `a message: ${failures[0]?.detail}`);
    const active = await lab.db.get<{ last_active_at: number }>('SELECT last_active_at FROM class_students WHERE learner_id = ?', [learner]);
    assert.ok(Number(active?.last_active_at) > 0, 'activity noted');
  });
});

describe('two classes', () => {
  it('never see each other\'s students, messages or sends', async () => {
    const a = await createClass(lab.baseUrl, 'Class A', [FIRST_LESSON, SECOND_LESSON]);
    const b = await createClass(lab.baseUrl, 'Class B', [FIRST_LESSON, SECOND_LESSON]);
    const ann = await joined(lab.baseUrl, a.code, 'Ann');
    const ben = await joined(lab.baseUrl, b.code, 'Ben');
    await teacherPost(a, 'message', { message: 'Only for A', action: 'show' });
    await teacherPost(a, 'send', { where: SECOND_LESSON });
    assert.ok((await poll(ann)).headers.get('hx-redirect'));
    const benBar = await poll(ben);
    assert.equal(benBar.headers.get('hx-redirect'), null);
    assert.doesNotMatch(benBar.text, /Only for A|Class A/);
    assert.deepEqual([...(await studentIds(a)).keys()], ['Ann']);
    assert.deepEqual([...(await studentIds(b)).keys()], ['Ben']);
    const exportB = await browse(b.teacher, `${b.base}/results.csv`);
    assert.doesNotMatch(exportB.text, /Ann/);
    // A's token opens A only: B's students are not A's to remove.
    const benId = (await studentIds(b)).get('Ben')!;
    assert.equal((await teacherPost(a, `students/${benId}/remove`)).status, 404);
    assert.deepEqual([...(await studentIds(b)).keys()], ['Ben']);
  });
});

describe('two app instances on one database', () => {
  it("a send through one moves a follower whose page polls the other, and the other's teacher page sees the class", async () => {
    // Another instance: its own connection (so its own caches, told of other writers as another
    // process would be), its own port, the same site secret.
    const db = await lab.database.open();
    const { app } = buildApp({ config: testConfig(lab.database.target, lab.database.schema ?? 'public'), db, limits: { teacherRequestsPerMinute: 100_000 } });
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const other = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const cls = await createClass(lab.baseUrl, 'Two instances', [FIRST_LESSON, SECOND_LESSON]);
      const ada = (await joined(lab.baseUrl, cls.code, 'Ada')).at(other);
      assert.equal((await poll(ada)).headers.get('hx-redirect'), null, 'the other instance now holds the class in its caches');
      await teacherPost(cls, 'send', { where: SECOND_LESSON });
      // The page polls every 2 s: the other instance must see the send within that (it promises a second).
      let moved: string | null = null;
      for (const started = Date.now(); !moved && Date.now() - started < 2000; await sleep(100)) moved = (await poll(ada)).headers.get('hx-redirect');
      assert.equal(moved, `/lessons/${SECOND_LESSON}?followed=1`);
      const page = await browse(cls.teacher.at(other), cls.base);
      assert.match(page.text, /<th scope="row">Ada<\/th>/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    }
  });
});

describe('a restart of the app on the same database', () => {
  it('keeps the class, its students (the same browser is the same student), the message and the teacher link', async () => {
    let local = await startLab({ limits: { teacherRequestsPerMinute: 100_000 } });
    try {
      const cls = await createClass(local.baseUrl, 'Survivor', [FIRST_LESSON]);
      const ada = await joined(local.baseUrl, cls.code, 'Ada');
      await teacherPost(cls, 'message', { message: 'Still here', action: 'show' });
      local = await local.restart();
      const adaAgain = ada.at(local.baseUrl);
      const page = await browse(adaAgain, `/lessons/${FIRST_LESSON}`);
      assert.match(visibleText(page.text), /Survivor · you are Ada/);
      assert.match(visibleText(page.text), /Still here/);
      const rejoin = await browse(adaAgain, '/join', { form: { code: cls.code, name: 'Someone else' } });
      assert.equal(rejoin.status, 303);
      const teacher = cls.teacher.at(local.baseUrl);
      const teacherPage = await browse(teacher, cls.base);
      assert.equal(teacherPage.status, 200);
      assert.match(teacherPage.text, /Students \(1\)/);
      assert.match(teacherPage.text, /<th scope="row">Ada<\/th>/);
    } finally {
      await local.stop();
    }
  });
});

describe("the teacher's token", () => {
  const lines: string[] = [];
  const originals = { log: console.log, error: console.error, warn: console.warn, info: console.info };
  afterEach(() => Object.assign(console, originals));

  it('is in no student answer and no log line, even when a teacher request fails', async () => {
    for (const level of ['log', 'error', 'warn', 'info'] as const) console[level] = (...args: unknown[]) => lines.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(' '));
    const local = await startLab({ limits: { teacherRequestsPerMinute: 100_000 } });
    try {
      const cls = await createClass(local.baseUrl, 'Secret', [FIRST_LESSON]);
      await teacherPost(cls, 'message', { message: 'hello', action: 'show' });
      await teacherPost(cls, 'send', { where: `${FIRST_LESSON}/get-a-cookie` });
      const student = new CookieClient(local.baseUrl);
      const answers: Answer[] = [];
      answers.push(await browse(student, `/join/${cls.code}`));
      answers.push(await browse(student, '/join', { form: { code: cls.code, name: 'Ada' } }));
      answers.push(await browse(student, `/lessons/${FIRST_LESSON}`));
      answers.push(await browse(student, `/lessons/${FIRST_LESSON}/tasks`));
      answers.push(await poll(student));
      answers.push(await follow(student, false));
      answers.push(await browse(student, '/progress'));
      answers.push(await browse(student, `/teach/${'B'.repeat(43)}`));
      for (const answer of answers) {
        const whole = [...answer.headers].map(([k, v]) => `${k}: ${v}`).join('\n') + answer.text;
        assert.ok(!whole.includes(cls.token), 'no student answer carries the token');
      }
      // A failing teacher request is logged (with its URL): the token must not be in that line.
      await local.db.run('DROP TABLE class_students');
      const failed = await browse(cls.teacher, cls.base);
      assert.equal(failed.status, 500);
      assertNoLeak(failed);
      await browse(cls.teacher, `${cls.base}/results.csv?x=1`);
      await browse(cls.teacher, `${cls.base}/nothing-here`);
    } finally {
      await local.stop();
      Object.assign(console, originals);
    }
    assert.ok(lines.some((line) => line.includes('/teach/[token]')), `the failure was logged: ${lines.join('\n').slice(0, 500)}`);
    for (const line of lines) assert.doesNotMatch(line, /\/teach\/[A-Za-z0-9_-]{43}/, `a log line carries a token: ${line.slice(0, 200)}`);
  });
});
