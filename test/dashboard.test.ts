// The teacher's dashboard and the class's projector: every student with their solved tasks, hints
// and stuck state; failed checks grouped by what they observed; a poll answered 304 while nothing
// changed and refreshed when another process writes; a projected exchange only with consent, never
// with a name or the sandbox's id; another class's token shows nothing of this class; bad input is
// a clear 4xx. Classes and students are set up through ClassStore directly (the join pages are
// another module's), progress through ProgressStore, as the lesson routes would.
// Long because it is the dashboard's and the projector's whole contract, one class set up per test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, send } from './support/http.ts';
import { visit } from './support/sandbox.ts';
import { IDLE_MS, STUCK_FAILURES, normalizeFailure } from '../server/classroom/dashboard.ts';
import { ClassStore } from '../server/classroom/class-store.ts';

const LESSON = 'what-a-session-cookie-is';
const OTHER_LESSON = 'the-secret-signs';
const TASKS = ['get-a-cookie', 'data-stays-in-store', 'rename-the-cookie'];

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

const htmx = { 'hx-request': 'true', accept: 'text/html' };
let learners = 0;
const learner = () => `learner-${++learners}-${Math.random().toString(36).slice(2, 8)}`;

async function newClass(title = 'Cookies 101', lessons = [LESSON, OTHER_LESSON]) {
  return lab.classes.create(title, lessons);
}

async function failure(learnerId: string, task: string, detail: string, at = Date.now(), sandboxId = 'sandbox-x', exchangeNumber = Math.floor(Math.random() * 1e9)) {
  await lab.classes.recordFailure({ learnerId, lesson: LESSON, task, sandboxId, exchangeNumber, detail, at });
}

describe('the dashboard', () => {
  it('lists every student with solved tasks and hints, escaped, and counts each task', async () => {
    const { record, token } = await newClass();
    const names = ['<script>alert(1)</script>', 'Ada & "Bob"', ...Array.from({ length: 40 }, (_, i) => `Student ${i + 1}`)];
    const ids: string[] = [];
    for (const name of names) {
      const id = learner();
      ids.push(id);
      await lab.classes.join(record.id, id, name);
    }
    await lab.progress.markSolved(ids[0]!, LESSON, TASKS[0]!);
    await lab.progress.markSolved(ids[1]!, LESSON, TASKS[0]!);
    await lab.progress.markSolved(ids[1]!, LESSON, TASKS[1]!);
    await lab.progress.showHints(ids[1]!, LESSON, TASKS[2]!, 2);
    const page = await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('cache-control') ?? '', /no-store/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer', 'its address carries the token');
    assert.ok(!page.text.includes('<script>alert(1)</script>'), 'a name with markup is escaped');
    assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(page.text.includes('Ada &amp; &quot;Bob&quot;') || page.text.includes('Ada &amp; "Bob"'));
    // Never cut to a top-N: all 42 are there.
    assert.equal((page.text.match(/<li class="student/g) ?? []).length, 42);
    assert.ok(page.text.includes('Students (42)'));
    assert.match(page.text, /T1 [^<]*<\/strong>: 2 of 42 solved/);
    assert.match(page.text, /T2 [^<]*<\/strong>: 1 of 42 solved/);
    assert.match(page.text, /2 hints/);
    assert.ok(page.text.includes(`hx-ptag="`), 'the poll starts from the fingerprint it shows');
  });

  it('marks as stuck a student with several failed checks on one unsolved task, or idle while others solve', async () => {
    const { record, token } = await newClass();
    const trier = learner();
    const idle = learner();
    const mover = learner();
    const solvedLater = learner();
    const long = Date.now() - 2 * IDLE_MS;
    await lab.classes.join(record.id, trier, 'Trier');
    await lab.classes.join(record.id, idle, 'Idler', long);
    await lab.classes.join(record.id, mover, 'Mover');
    await lab.classes.join(record.id, solvedLater, 'Finally');
    for (let i = 0; i < STUCK_FAILURES; i++) await failure(trier, TASKS[0]!, `Expected a cookie, but in exchange #${i + 1} (visit) no Set-Cookie was sent.`);
    // Failed as often, then solved: not stuck.
    for (let i = 0; i < STUCK_FAILURES; i++) await failure(solvedLater, TASKS[0]!, 'Expected a cookie, but no request has been made yet.');
    await lab.progress.markSolved(solvedLater, LESSON, TASKS[0]!);
    await lab.progress.markSolved(mover, LESSON, TASKS[0]!);
    const page = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    const tile = (name: string) => new RegExp(`<li class="student[^"]*"[^>]*><span class="name" title="${name}">[\\s\\S]*?</li>`).exec(page)?.[0] ?? '';
    assert.match(tile('Trier'), /class="student stuck"/);
    assert.match(tile('Trier'), /Stuck: <\/span>⚠ 3 fails on T1/);
    assert.match(tile('Idler'), /Stuck: <\/span>⚠ idle \d+ min/);
    assert.doesNotMatch(tile('Mover'), /stuck/i);
    assert.doesNotMatch(tile('Finally'), /stuck/i);
    assert.ok(page.includes('2 look stuck'));
  });

  it("forgets a student's failed checks from before a reset, whoever reset the lesson or the student's whole progress", async () => {
    const { record, token } = await newClass();
    const [own, all, teacherReset] = [learner(), learner(), learner()];
    for (const [id, name] of [[own, 'Own'], [all, 'Everything'], [teacherReset, 'ByTeacher']] as const) {
      await lab.classes.join(record.id, id, name);
      for (let i = 0; i < STUCK_FAILURES; i++) await failure(id, TASKS[0]!, 'Expected a cookie, but no request has been made yet.', Date.now() - 1000);
    }
    const page = async () => (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    assert.ok((await page()).includes('3 look stuck'), 'each starts stuck');
    await lab.progress.resetLesson(own, LESSON);
    await lab.progress.reset(all);
    const student = await lab.db.get<{ student_id: string }>('SELECT student_id FROM class_students WHERE learner_id = ?', [teacherReset]);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    assert.equal((await send(lab.baseUrl, `/teach/${token}/students/${student!.student_id}/reset`, { method: 'POST', body: '', headers: form })).status, 303);
    const after = await page();
    assert.ok(!after.includes('look stuck'), 'none is stuck any more');
    assert.deepEqual(await lab.classes.failures(record.id, LESSON), []);
    // A failure after the reset counts again.
    await failure(own, TASKS[0]!, 'Expected a cookie, but no request has been made yet.', Date.now() + 1000);
    assert.deepEqual((await lab.classes.failures(record.id, LESSON)).map((f) => f.learnerId), [own]);
  });

  it('groups failed checks by what they observed, counting students', async () => {
    const { record, token } = await newClass();
    const ids = Array.from({ length: 9 }, learner);
    for (const [i, id] of ids.entries()) await lab.classes.join(record.id, id, `S${i}`);
    for (const [i, id] of ids.entries()) await failure(id, TASKS[0]!, `Expected a Set-Cookie for the session, but in exchange #${i + 2} (visit) no Set-Cookie was sent.`);
    await failure(ids[0]!, TASKS[0]!, 'Expected a Set-Cookie for the session, but in exchange #40 (visit) no Set-Cookie was sent.');
    for (const id of ids.slice(0, 4)) await failure(id, TASKS[2]!, `Expected the cookie renamed, but when it was made, name was "connect.sid", not "sid".`);
    const page = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    assert.match(page, /No Set-Cookie was sent<\/span> <strong class="times">× 9<\/strong><span class="hint"> \(10 checks\)/);
    assert.match(page, /When it was made, name was &quot;connect.sid&quot;, not &quot;sid&quot;<\/span> <strong class="times">× 4<\/strong>/);
    // Nobody agreed to be projected yet.
    assert.ok(page.includes('nobody here agreed to be projected'));
    assert.ok(!page.includes('Project one'));
  });

  it('normalizes what a check observed: no exchange numbers, times or counts', () => {
    assert.equal(normalizeFailure('Expected X, but in exchange #12 (write) the store was not asked to set (calls: get).'), 'The store was not asked to set (calls: get)');
    assert.equal(normalizeFailure('Expected X, but its cookie had expired (3 s ago).'), 'Its cookie had expired (N s ago)');
    assert.equal(normalizeFailure('Read document.cookie with the probe first.'), 'Read document.cookie with the probe first');
    assert.equal(normalizeFailure(''), 'no details');
  });

  it('answers a poll 304 while nothing changed, and the new state once another process writes', async () => {
    const { record, token } = await newClass();
    const id = learner();
    await lab.classes.join(record.id, id, 'Poller');
    const live = `/teach/${token}/dashboard/live?lesson=${LESSON}`;
    const first = await send(lab.baseUrl, live, { headers: htmx });
    assert.equal(first.status, 200);
    const ptag = first.headers.get('hx-ptag')!;
    assert.ok(ptag);
    assert.ok(!first.text.includes('<html'), 'a fragment, not a page');
    const again = await send(lab.baseUrl, live, { headers: { ...htmx, 'hx-ptag': ptag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    // Another process on the same database (its own connection and caches) records a solve.
    const other = await lab.database.open();
    try {
      const before = Date.now();
      await other.run('INSERT INTO solved_tasks (learner_id, lesson, task, solved_at) VALUES (?, ?, ?, ?)', [id, LESSON, TASKS[0], Date.now()]);
      const changed = await send(lab.baseUrl, live, { headers: { ...htmx, 'hx-ptag': ptag } });
      assert.equal(changed.status, 200, 'the next poll sees it: the fingerprint is read from the database, not a cache');
      assert.notEqual(changed.headers.get('hx-ptag'), ptag);
      assert.match(changed.text, /T1 [^<]*<\/strong>: 1 of 1 solved/);
      assert.ok(Date.now() - before < 2000);
    } finally {
      await other.close();
    }
    // Another store instance (another process's ClassStore) recording a failure changes it too.
    const other2 = await lab.database.open();
    try {
      await new ClassStore(other2).recordFailure({ learnerId: id, lesson: LESSON, task: TASKS[1]!, sandboxId: 's', exchangeNumber: 1, detail: 'Expected X, but nothing.', at: Date.now() });
    } finally {
      await other2.close();
    }
    // A student's consent decides whether a group can be projected: it changes the answer too.
    const beforeConsent = (await send(lab.baseUrl, live, { headers: htmx })).headers.get('hx-ptag')!;
    await lab.classes.setShareConsent(record.id, id, true);
    assert.equal((await send(lab.baseUrl, live, { headers: { ...htmx, 'hx-ptag': beforeConsent } })).status, 200);
    // Sending the class elsewhere changes which lesson the bars (and the toggle's words) are about.
    const beforeSend = (await send(lab.baseUrl, live, { headers: htmx })).headers.get('hx-ptag')!;
    await lab.classes.send(record.id, { lesson: OTHER_LESSON });
    const afterSend = await send(lab.baseUrl, live, { headers: { ...htmx, 'hx-ptag': beforeSend } });
    assert.equal(afterSend.status, 200);
    assert.match(afterSend.text, /lesson: The secret signs/);
    const latest = await send(lab.baseUrl, live, { headers: htmx });
    const afterFailure = await send(lab.baseUrl, live, { headers: { ...htmx, 'hx-ptag': first.headers.get('hx-ptag')! } });
    assert.equal(afterFailure.status, 200);
    assert.match(latest.text, /Nothing<\/span>/);
  });

  it('never opens a class without its token, nor shows one class through another class\'s token', async () => {
    const mine = await newClass('Mine');
    const theirs = await newClass('Theirs');
    await lab.classes.join(mine.record.id, learner(), 'Only-In-Mine');
    await lab.classes.join(theirs.record.id, learner(), 'Only-In-Theirs');
    const page = (await send(lab.baseUrl, `/teach/${theirs.token}/dashboard`)).text;
    assert.ok(page.includes('Only-In-Theirs'));
    assert.ok(!page.includes('Only-In-Mine'));
    assert.ok(!page.includes(mine.token));
    for (const path of ['/teach/dashboard', `/teach/${'A'.repeat(43)}/dashboard`, '/teach/x/dashboard/live', `/teach/${mine.token.slice(0, -1)}/dashboard`]) {
      const answer = await send(lab.baseUrl, path);
      assert.equal(answer.status, 404, path);
      assert.ok(!answer.text.includes('Only-In'), path);
    }
    const post = await send(lab.baseUrl, `/teach/${'B'.repeat(43)}/dashboard/bars`, { method: 'POST', body: 'lesson=x&show=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.status, 404);
  });

  it('refuses bad input with a clear message, never a 500', async () => {
    const { token } = await newClass();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ['GET', `/teach/${token}/dashboard?lesson=not-a-lesson`, undefined, 400, /does not cover the lesson/],
      ['GET', `/teach/${token}/dashboard?lesson=${'x'.repeat(5000)}`, undefined, 400, /does not cover the lesson/],
      ['GET', `/teach/${token}/dashboard?lesson=stores-and-restarts`, undefined, 400, /does not cover/],
      ['GET', `/teach/${token}/dashboard?lesson=${LESSON}&lesson=${LESSON}`, undefined, 400, /does not cover/],
      ['POST', `/teach/${token}/dashboard/bars`, `lesson=${LESSON}&show=maybe`, 400, /show=1/],
      ['POST', `/teach/${token}/dashboard/bars`, '', 400, /show=1/],
      ['POST', `/teach/${token}/dashboard/project`, `lesson=${LESSON}&task=nope&group=abc`, 400, /no such task/],
      ['POST', `/teach/${token}/dashboard/project`, `lesson=${LESSON}&task=${TASKS[0]}&group=<b>`, 400, /group/],
      ['POST', `/teach/${token}/dashboard/project`, `lesson=${LESSON}&task=${TASKS[0]}&group=abcdef`, 409, /no longer there/],
      ['GET', '/projector/OOOOOO', undefined, 404, /no class has this code/],
      ['GET', `/projector/${'<x>'}`, undefined, 404, /no class has this code/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await send(lab.baseUrl, path, { method, body, headers: { ...(body === undefined ? {} : form), accept: 'application/json' } });
      assert.equal(answer.status, status, `${method} ${path.slice(0, 120)}: ${answer.text.slice(0, 200)}`);
      assert.match(answer.text, message, path.slice(0, 120));
      assert.ok(!answer.text.includes('<b>'), 'the input is never echoed unescaped');
    }
  });
});

describe('the projector', () => {
  it('shows a student\'s exchange only with their consent, without their name or sandbox id', async () => {
    const { record, token } = await newClass('Projected');
    const shy = learner();
    const willing = learner();
    await lab.classes.join(record.id, shy, 'Shy Name');
    await lab.classes.join(record.id, willing, 'Willing Name');
    // A real exchange in each student's sandbox, failing the first task's check.
    const client = new CookieClient(lab.baseUrl);
    const created = await client.request('/api/sandboxes', { method: 'POST', json: {} });
    const sandboxId = ((await created.json()) as { id: string }).id;
    const reply = await visit(client, sandboxId);
    const number = reply.exchange.number;
    const detail = 'Expected a Set-Cookie, but in exchange #1 (visit) no Set-Cookie was sent.';
    await failure(shy, TASKS[0]!, detail, Date.now(), sandboxId, number);
    const form = { 'content-type': 'application/x-www-form-urlencoded', ...htmx };
    const dashboard = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    const group = /name="group" value="([^"]+)"/.exec(dashboard)?.[1];
    assert.equal(group, undefined, 'no consent: no project button');

    // Consent given, but by a student with no failure there: still nobody in the group.
    await lab.classes.setShareConsent(record.id, willing, true);
    const stillNot = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    assert.ok(stillNot.includes('nobody here agreed to be projected'));

    await lab.classes.setShareConsent(record.id, shy, true);
    const withConsent = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    const key = /name="group" value="([^"]+)"/.exec(withConsent)?.[1];
    assert.ok(key, 'a project button once the student consents');
    const projected = await send(lab.baseUrl, `/teach/${token}/dashboard/project`, { method: 'POST', body: `lesson=${LESSON}&task=${TASKS[0]}&group=${key}`, headers: form });
    assert.equal(projected.status, 200, projected.text.slice(0, 300));
    assert.match(projected.text, /Stop projecting/);

    const screen = await send(lab.baseUrl, `/projector/${record.code}`);
    assert.equal(screen.status, 200);
    assert.match(screen.text, /An exchange from the class/);
    assert.match(screen.text, /No Set-Cookie was sent/);
    assert.match(screen.text, /class="presenting"/);
    for (const secret of ['Shy Name', 'Willing Name', sandboxId, token]) assert.ok(!screen.text.includes(secret), `the projector never shows ${secret === token ? 'the token' : secret}`);
    assert.ok(!screen.text.includes('/jar'), "the projector does not ask its own browser's jar about another browser's cookie");

    // The student withdraws consent: gone from the projector at once.
    await lab.classes.setShareConsent(record.id, shy, false);
    const withdrawn = await send(lab.baseUrl, `/projector/${record.code}/live`, { headers: htmx });
    assert.equal(withdrawn.status, 200);
    assert.ok(!withdrawn.text.includes('An exchange from the class'));
    assert.match(withdrawn.text, /Nothing on the screen yet/);
  });

  it('shows the bars only when the teacher chooses, as counts with no names', async () => {
    const { record, token } = await newClass('Bars');
    const ids = [learner(), learner(), learner()];
    for (const [i, id] of ids.entries()) await lab.classes.join(record.id, id, `Named Person ${i}`);
    await lab.progress.markSolved(ids[0]!, LESSON, TASKS[0]!);
    const hidden = (await send(lab.baseUrl, `/projector/${record.code}`)).text;
    assert.ok(!hidden.includes('how many solved each task'));
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const toggled = await send(lab.baseUrl, `/teach/${token}/dashboard/bars`, { method: 'POST', body: `lesson=${LESSON}&show=1`, headers: form });
    assert.equal(toggled.status, 303, 'a plain form goes back to the dashboard');
    assert.equal(toggled.headers.get('location'), `/teach/${token}/dashboard?lesson=${LESSON}`);
    const shown = (await send(lab.baseUrl, `/projector/${record.code}`)).text;
    assert.match(shown, /how many solved each task/);
    assert.match(shown, /1 of 3/);
    for (const id of ids) assert.ok(!shown.includes(id));
    assert.ok(!shown.includes('Named Person'));
    assert.ok(!shown.includes(token));
  });
});

describe('failed checks from real lesson checks', () => {
  it('are recorded for a wrong exchange, and never for the exchange that just solved the task before', async () => {
    const { record, token } = await newClass('Real checks');
    const browser = new CookieClient(lab.baseUrl);
    const page = await (await browser.request(`/lessons/${LESSON}`, { headers: { accept: 'text/html' } })).text();
    const sandboxPath = /data-sandbox-path="([^"]+)"/.exec(page)![1]!;
    const row = await lab.db.get<{ learner_id: string }>('SELECT learner_id FROM lesson_sandboxes WHERE sandbox_id = ?', [sandboxPath.split('/').pop()]);
    await lab.classes.join(record.id, row!.learner_id, 'Checker');
    const check = () => browser.request(`/lessons/${LESSON}/tasks`, { headers: { 'hx-request': 'true', accept: 'text/html' } });
    // A visit where the first task wants a write: a failure on task 1.
    await browser.request(`${sandboxPath}/visit`);
    await check();
    // The write solves task 1: nothing recorded against task 2 for it.
    await browser.request(`${sandboxPath}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } });
    await check();
    const failures = await lab.classes.failures(record.id, LESSON);
    assert.deepEqual(failures.map((f) => [f.task, f.exchangeNumber]), [[TASKS[0], 1]]);
    const dashboard = (await send(lab.baseUrl, `/teach/${token}/dashboard?lesson=${LESSON}`)).text;
    assert.match(dashboard, /The request was &quot;visit&quot;, not &quot;write&quot;<\/span> <strong class="times">× 1<\/strong><span class="hint"> \(1 check; 1 solved it since\)/);
  });
});

describe('limits', () => {
  it("the projector's own budget runs out without touching the teacher's, with a clear message", async () => {
    const small = await startLab({ limits: { projectorRequestsPerMinute: 3, teacherRequestsPerMinute: 5 } });
    try {
      const { record, token } = await small.classes.create('Limited', [LESSON]);
      for (let i = 0; i < 3; i++) assert.equal((await send(small.baseUrl, `/projector/${record.code}/live`, { headers: htmx })).status, 200);
      const refused = await send(small.baseUrl, `/projector/${record.code}/live`, { headers: { ...htmx, accept: 'application/json' } });
      assert.equal(refused.status, 429);
      assert.match(refused.text, /too many projector requests from this address/);
      // Students on the projector used none of the teacher's five.
      for (let i = 0; i < 5; i++) assert.equal((await send(small.baseUrl, `/teach/${token}/dashboard/live?lesson=${LESSON}`, { headers: htmx })).status, 200);
      const teacherRefused = await send(small.baseUrl, `/teach/${token}/dashboard/live?lesson=${LESSON}`, { headers: { ...htmx, accept: 'application/json' } });
      assert.equal(teacherRefused.status, 429);
      assert.ok(!teacherRefused.text.includes(token), 'the refusal never repeats the token');
    } finally {
      await small.stop();
    }
  });
});
