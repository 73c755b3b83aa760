// Learner progress over HTTP, as browsers: opening a lesson starts a learner (the site's own
// session) and the lesson's sandbox; tasks are solved by real sandbox requests; progress survives
// restarts, can be exported, imported (merged) and reset; learners never see each other's.
// Long because it follows one story (start, solve, restart, export, import, reset) end to end.
//
// The site session cookie (cookielab.sid, Path=/) and a sandbox's cookie are kept by different
// clients here: a learner's "site" client, and one client per sandbox for its requests, so two
// lessons' cookies of the same name never share a jar.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLessons } from '../server/lessons/loader.ts';
import { courseFor, labFeatures } from '../server/lessons/features.ts';
import { ProgressStore, type ProgressExport } from '../server/lessons/progress.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { cleanUp } from '../server/db/cleanup.ts';
import { SandboxRegistry } from '../server/sandbox/registry.ts';
import { articleOptions } from '../server/sandbox/options.ts';
import { startLab, testRedisUrl, type Lab } from './support/lab.ts';
import { CookieClient, readExchanges, readOptions, updateOptions } from './support/http.ts';
import { visit, write } from './support/sandbox.ts';
import { withHandClock } from './support/clock.ts';

// The course as the labs of this run offer it (the Redis task when the run has Redis).
const lessons = courseFor(loadLessons(join(import.meta.dirname, '..', 'lessons')), labFeatures({ redis: Boolean(testRedisUrl), instanceCount: 1 }));
const L1 = lessons[0]!; // what-a-session-cookie-is: get-a-cookie (any write with a Set-Cookie), data-stays-in-store (latest: visit found), rename-the-cookie
const L2 = lessons[1]!;
const SITE_COOKIE = 'cookielab.sid';
const HTML = { accept: 'text/html' };

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

// ---------------------------------------------------------------------------------------------
// Helpers: a learner's pages, read the way a browser gets them.

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

interface Opened {
  status: number;
  setCookie: string[];
  html: string;
  sandboxId: string;
}

async function openLesson(learner: CookieClient, slug: string): Promise<Opened> {
  const res = await learner.request(`/lessons/${slug}`, { headers: HTML });
  const html = await res.text();
  assert.equal(res.status, 200, `GET /lessons/${slug}: ${html.slice(0, 300)}`);
  const sandboxId = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(html)?.[1];
  assert.ok(sandboxId, 'the lesson page shows its sandbox');
  return { status: res.status, setCookie: res.headers.getSetCookie(), html, sandboxId };
}

interface TaskView {
  solved: boolean;
  /** Hints listed on the card. */
  hintsListed: number;
  /** The "Show a hint (n of m)" button, if any. */
  hintButton: string | null;
  detail: string | null;
}

function parseTasks(html: string): Map<string, TaskView> {
  const tasks = new Map<string, TaskView>();
  for (const chunk of html.split('<li class="task').slice(1)) {
    const head = /^( solved)?" id="task-([a-z0-9-]+)"/.exec(chunk);
    assert.ok(head, `a task card: ${chunk.slice(0, 80)}`);
    const hints = /<ol class="hints">([\s\S]*?)<\/ol>/.exec(chunk)?.[1] ?? '';
    tasks.set(head[2]!, {
      solved: head[1] !== undefined,
      hintsListed: hints.split('<li>').length - 1,
      hintButton: /Show a hint \(\d+ of \d+\)/.exec(chunk)?.[0] ?? null,
      detail: /<p class="check-detail">([^<]*)<\/p>/.exec(chunk)?.[1] ?? null,
    });
  }
  return tasks;
}

/** GET /lessons/:slug/tasks: checks every unsolved task against the sandbox and saves passes. */
async function tasksOf(learner: CookieClient, slug: string): Promise<Map<string, TaskView>> {
  const res = await learner.request(`/lessons/${slug}/tasks`, { headers: HTML });
  const html = await res.text();
  assert.equal(res.status, 200, html);
  return parseTasks(html);
}

async function solvedOf(learner: CookieClient, slug: string): Promise<string[]> {
  return [...(await tasksOf(learner, slug))].filter(([, t]) => t.solved).map(([id]) => id);
}

async function exportOf(learner: CookieClient): Promise<ProgressExport> {
  const res = await learner.request('/progress/export');
  assert.equal(res.status, 200);
  return (await res.json()) as ProgressExport;
}

/** "n of m tasks solved" for each lesson, as a page (/lessons or /progress) shows it. */
async function countsOn(learner: CookieClient, page: '/lessons' | '/progress'): Promise<Record<string, string>> {
  const res = await learner.request(page, { headers: HTML });
  const html = await res.text();
  assert.equal(res.status, 200);
  const counts: Record<string, string> = {};
  for (const match of html.matchAll(/href="\/lessons\/([a-z0-9-]+)">[^<]*<\/a>[^<0-9]*(?:<span[^>]*>)?(\d+ of \d+) tasks solved/g)) counts[match[1]!] = match[2]!;
  assert.equal(Object.keys(counts).length, lessons.length, `every lesson has a count on ${page}`);
  return counts;
}

async function importText(learner: CookieClient, text: string): Promise<{ status: number; message: string; alert: boolean }> {
  const res = await learner.request('/progress/import', {
    method: 'POST',
    headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ progress: text }).toString(),
  });
  const html = await res.text();
  const found = /<p class="(error|note)" role="(alert|status)">([^<]*)<\/p>/.exec(html);
  assert.ok(found, `the import page shows a message (${res.status}): ${html.slice(0, 300)}`);
  return { status: res.status, message: decode(found[3]!), alert: found[1] === 'error' && found[2] === 'alert' };
}

function exportFile(lessonsPart: Record<string, unknown>): string {
  return JSON.stringify({ format: 'cookie-lab-progress', version: 1, lessons: lessonsPart });
}

function siteCookie(setCookie: string[]): string | undefined {
  return setCookie.find((header) => header.startsWith(`${SITE_COOKIE}=`));
}

/** A learner who opened lesson 1 and solved get-a-cookie (and data-stays-in-store with `visitToo`). */
async function learnerWithProgress(visitToo = false): Promise<{ learner: CookieClient; sandboxId: string; browser: CookieClient }> {
  const learner = new CookieClient(lab.baseUrl);
  const { sandboxId } = await openLesson(learner, L1.slug);
  const browser = new CookieClient(lab.baseUrl);
  await write(browser, sandboxId, 'user', 'ada');
  if (visitToo) await visit(browser, sandboxId);
  await tasksOf(learner, L1.slug);
  return { learner, sandboxId, browser };
}

async function showHint(learner: CookieClient, slug: string, task: string, headers: Record<string, string> = {}): Promise<Response> {
  return learner.request(`/lessons/${slug}/tasks/${task}/hints`, { method: 'POST', headers: { ...HTML, ...headers } });
}

// ---------------------------------------------------------------------------------------------

describe('opening a lesson', () => {
  it('sets the site session cookie (Path=/) and creates the lesson\'s sandbox, shown on the page', async () => {
    const learner = new CookieClient(lab.baseUrl);
    const opened = await openLesson(learner, L1.slug);
    const cookie = siteCookie(opened.setCookie);
    assert.ok(cookie, `a ${SITE_COOKIE} cookie: ${opened.setCookie.join(' | ')}`);
    assert.match(cookie, /; Path=\/;/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.ok(learner.jar.has(SITE_COOKIE));
    assert.ok(opened.html.includes(`/sandbox/${opened.sandboxId}`), 'the sandbox path appears in the page');
    // The sandbox exists, with the lesson's options.
    assert.deepEqual(await readOptions(lab.baseUrl, opened.sandboxId), L1.sandbox);
  });

  it('gives the same sandbox on every visit, and each lesson its own', async () => {
    const learner = new CookieClient(lab.baseUrl);
    const first = await openLesson(learner, L1.slug);
    const again = await openLesson(learner, L1.slug);
    assert.equal(again.sandboxId, first.sandboxId);
    const other = await openLesson(learner, L2.slug);
    assert.notEqual(other.sandboxId, first.sandboxId);
    assert.deepEqual(await readOptions(lab.baseUrl, other.sandboxId), L2.sandbox);
  });

  it('the course list alone starts no session: no cookie, every lesson at 0', async () => {
    const visitor = new CookieClient(lab.baseUrl);
    const res = await visitor.request('/lessons', { headers: HTML });
    await res.text();
    assert.equal(siteCookie(res.headers.getSetCookie()), undefined);
    const counts = await countsOn(visitor, '/lessons');
    for (const l of lessons) assert.equal(counts[l.slug], `0 of ${l.tasks.length}`);
    assert.equal(visitor.jar.size, 0);
  });

  it('an unknown lesson is a 404 with a message, for its page, its tasks and its hints', async () => {
    const learner = new CookieClient(lab.baseUrl);
    await openLesson(learner, L1.slug);
    for (const [method, path] of [
      ['GET', '/lessons/no-such-lesson'],
      ['GET', '/lessons/no-such-lesson/tasks'],
      ['POST', '/lessons/no-such-lesson/tasks/get-a-cookie/hints'],
    ] as const) {
      const res = await learner.request(path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(await res.json(), { error: { message: 'there is no such lesson; see /lessons for the course' } });
    }
  });

  it('GET /lessons/:slug/tasks (and a hint) without a site session is a 409 that says to open the lesson first', async () => {
    const stranger = new CookieClient(lab.baseUrl);
    for (const res of [await stranger.request(`/lessons/${L1.slug}/tasks`), await stranger.request(`/lessons/${L1.slug}/tasks/get-a-cookie/hints`, { method: 'POST' })]) {
      assert.equal(res.status, 409);
      assert.deepEqual(await res.json(), { error: { message: 'open the lesson page first: it starts your progress' } });
      assert.equal(siteCookie(res.headers.getSetCookie()), undefined, 'no learner was created');
    }
    // The same as a page, for a browser.
    const page = await stranger.request(`/lessons/${L1.slug}/tasks`, { headers: HTML });
    assert.equal(page.status, 409);
    assert.match(await page.text(), /open the lesson page first: it starts your progress/);
  });
  it(
    'two tabs opening a lesson at once get the one lesson sandbox',
    async () => {
      const learner = new CookieClient(lab.baseUrl);
      await openLesson(learner, L1.slug); // the learner exists
      const tabs = await Promise.all([1, 2, 3].map(() => openLesson(learner, L2.slug)));
      const later = await openLesson(learner, L2.slug);
      assert.deepEqual(
        tabs.map((tab) => tab.sandboxId),
        [later.sandboxId, later.sandboxId, later.sandboxId],
        'every tab shows the sandbox whose requests count',
      );
    },
  );
});

describe('solving tasks', () => {
  it('a sandbox request that meets the check marks the task solved; it stays solved after unrelated requests', async () => {
    const learner = new CookieClient(lab.baseUrl);
    const { sandboxId } = await openLesson(learner, L1.slug);
    const before = await tasksOf(learner, L1.slug);
    assert.deepEqual([...before.values()].map((t) => t.solved), [false, false, false]);
    assert.equal(before.get('get-a-cookie')!.detail, 'Expected a write answered with a Set-Cookie, but no request has been made yet.');

    const browser = new CookieClient(lab.baseUrl);
    await write(browser, sandboxId, 'user', 'ada');
    const afterWrite = await tasksOf(learner, L1.slug);
    assert.equal(afterWrite.get('get-a-cookie')!.solved, true);
    assert.equal(afterWrite.get('data-stays-in-store')!.solved, false);
    assert.match(decode(afterWrite.get('data-stays-in-store')!.detail ?? ''), /^Expected a visit whose cookie found its session in the store, but in exchange #1 \(write\)/);

    // data-stays-in-store looks at the latest request only: a visit solves it...
    await visit(browser, sandboxId);
    assert.deepEqual(await solvedOf(learner, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
    // ...and later requests that would no longer meet it leave it solved.
    await write(browser, sandboxId, 'user', 'grace');
    await visit(new CookieClient(lab.baseUrl), sandboxId);
    await updateOptions(lab.baseUrl, sandboxId, { resave: true });
    await write(browser, sandboxId, 'color', 'blue');
    assert.deepEqual(await solvedOf(learner, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
    await openLesson(learner, L1.slug);
    assert.deepEqual(await solvedOf(learner, L1.slug), ['get-a-cookie', 'data-stays-in-store']);

    assert.equal((await countsOn(learner, '/lessons'))[L1.slug], '2 of 3');
    assert.equal((await countsOn(learner, '/progress'))[L1.slug], '2 of 3');
    assert.deepEqual((await exportOf(learner)).lessons, { [L1.slug]: { solved: ['data-stays-in-store', 'get-a-cookie'], hints: {} } });
  });

  it('requests in another sandbox (not the lesson\'s) solve nothing', async () => {
    const learner = new CookieClient(lab.baseUrl);
    await openLesson(learner, L1.slug);
    const someoneElse = new CookieClient(lab.baseUrl);
    const { sandboxId: otherSandbox } = await openLesson(someoneElse, L1.slug);
    await write(new CookieClient(lab.baseUrl), otherSandbox, 'user', 'ada');
    assert.deepEqual(await solvedOf(learner, L1.slug), []);
    assert.deepEqual(await solvedOf(someoneElse, L1.slug), ['get-a-cookie']);
  });
});

describe('progress and restarts', () => {
  it('solved tasks, hints and the lesson sandbox survive restart()', async () => {
    let own = await startLab();
    try {
      const learner = new CookieClient(own.baseUrl);
      const { sandboxId } = await openLesson(learner, L1.slug);
      const browser = new CookieClient(own.baseUrl);
      await write(browser, sandboxId, 'user', 'ada');
      await visit(browser, sandboxId);
      assert.deepEqual(await solvedOf(learner, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
      assert.equal((await showHint(learner, L1.slug, 'rename-the-cookie')).status, 303);
      const saved = await exportOf(learner);

      const exchanges = await readExchanges(own.baseUrl, sandboxId);
      own = await own.restart();
      const back = learner.at(own.baseUrl);
      // The recorded exchanges are kept in the database, as the progress is.
      assert.deepEqual(await readExchanges(own.baseUrl, sandboxId), exchanges);
      assert.deepEqual(await solvedOf(back, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
      assert.equal((await tasksOf(back, L1.slug)).get('rename-the-cookie')!.hintsListed, 1);
      assert.equal((await openLesson(back, L1.slug)).sandboxId, sandboxId, 'the same sandbox');
      assert.deepEqual(await exportOf(back), saved);
      assert.equal((await countsOn(back, '/lessons'))[L1.slug], '2 of 3');
    } finally {
      await own.stop();
    }
  });
});

describe('hints', () => {
  it('each POST shows one more hint, up to the number of hints and no further', async () => {
    const learner = new CookieClient(lab.baseUrl);
    await openLesson(learner, L1.slug);
    const task = L1.tasks.find((t) => t.id === 'data-stays-in-store')!;
    assert.equal(task.hints.length, 2);
    assert.equal((await tasksOf(learner, L1.slug)).get(task.id)!.hintButton, 'Show a hint (1 of 2)');
    const expected = [1, 2, 2, 2];
    for (const [i, count] of expected.entries()) {
      const res = await showHint(learner, L1.slug, task.id);
      assert.equal(res.status, 303, `hint request ${i + 1}`);
      assert.equal(res.headers.get('location'), `/lessons/${L1.slug}#task-${task.id}`);
      assert.deepEqual((await exportOf(learner)).lessons[L1.slug]?.hints, { [task.id]: count });
      const card = (await tasksOf(learner, L1.slug)).get(task.id)!;
      assert.equal(card.hintsListed, count);
      assert.equal(card.hintButton, count < 2 ? `Show a hint (${count + 1} of 2)` : null);
    }
    // Other tasks are untouched.
    assert.equal((await tasksOf(learner, L1.slug)).get('get-a-cookie')!.hintsListed, 0);
  });

  it('answers htmx with the task list, and a hint for an unknown task is a 404', async () => {
    const learner = new CookieClient(lab.baseUrl);
    await openLesson(learner, L1.slug);
    const res = await showHint(learner, L1.slug, 'get-a-cookie', { 'hx-request': 'true' });
    assert.equal(res.status, 200);
    const cards = parseTasks(await res.text());
    assert.equal(cards.get('get-a-cookie')!.hintsListed, 1);
    assert.equal(cards.get('get-a-cookie')!.hintButton, null, 'the only hint is shown');

    const unknown = await learner.request(`/lessons/${L1.slug}/tasks/no-such-task/hints`, { method: 'POST' });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: { message: `lesson "${L1.slug}" has no task "no-such-task"` } });
    assert.deepEqual((await exportOf(learner)).lessons, { [L1.slug]: { solved: [], hints: { 'get-a-cookie': 1 } } });
  });
});

describe('export', () => {
  it('is a JSON attachment: format, version 1 and the lessons with progress', async () => {
    const { learner } = await learnerWithProgress(true);
    await showHint(learner, L1.slug, 'rename-the-cookie');
    await openLesson(learner, L2.slug); // opened, nothing done: not exported
    const res = await learner.request('/progress/export');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="cookie-lab-progress.json"');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), {
      format: 'cookie-lab-progress',
      version: 1,
      lessons: { [L1.slug]: { solved: ['data-stays-in-store', 'get-a-cookie'], hints: { 'rename-the-cookie': 1 } } },
    });
  });

  it('for a visitor without a session: empty, and no session is started', async () => {
    const visitor = new CookieClient(lab.baseUrl);
    const res = await visitor.request('/progress/export');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { format: 'cookie-lab-progress', version: 1, lessons: {} });
    assert.equal(visitor.jar.size, 0);
  });
});

describe('import', () => {
  it('into a fresh learner (no session yet): everything in the file, and a session is started', async () => {
    const { learner } = await learnerWithProgress(true);
    await showHint(learner, L1.slug, 'rename-the-cookie');
    const file = await exportOf(learner);

    const fresh = new CookieClient(lab.baseUrl);
    const res = await importText(fresh, JSON.stringify(file));
    assert.deepEqual(res, { status: 200, message: 'Imported: 2 solved task(s) merged into your progress.', alert: false });
    assert.ok(fresh.jar.has(SITE_COOKIE), 'the import started a learner');
    assert.deepEqual(await exportOf(fresh), file);
    assert.deepEqual(await solvedOf(fresh, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
    assert.equal((await countsOn(fresh, '/progress'))[L1.slug], '2 of 3');
  });

  it('merges into a learner with progress: what either side solved stays solved, hints take the max', async () => {
    // A: get-a-cookie and data-stays-in-store solved; hints data-stays-in-store 1, get-a-cookie 1.
    const a = await learnerWithProgress(true);
    await showHint(a.learner, L1.slug, 'data-stays-in-store');
    await showHint(a.learner, L1.slug, 'get-a-cookie');
    // B: rename-the-cookie (and so get-a-cookie) solved in its own sandbox; hints data-stays-in-store 2; lesson 2 hint.
    const b = new CookieClient(lab.baseUrl);
    const { sandboxId } = await openLesson(b, L1.slug);
    await updateOptions(lab.baseUrl, sandboxId, { name: 'lab_sid' });
    await write(new CookieClient(lab.baseUrl), sandboxId, 'user', 'ada');
    assert.deepEqual(await solvedOf(b, L1.slug), ['get-a-cookie', 'rename-the-cookie']);
    await showHint(b, L1.slug, 'data-stays-in-store');
    await showHint(b, L1.slug, 'data-stays-in-store');
    await openLesson(b, L2.slug);
    await showHint(b, L2.slug, L2.tasks[0]!.id);

    const fromA = await exportOf(a.learner);
    const res = await importText(b, JSON.stringify(fromA));
    assert.equal(res.status, 200);
    // Only the task b had not solved yet counts as imported.
    assert.equal(res.message, 'Imported: 1 solved task(s) merged into your progress.');
    assert.deepEqual((await exportOf(b)).lessons, {
      [L1.slug]: { solved: ['data-stays-in-store', 'get-a-cookie', 'rename-the-cookie'], hints: { 'data-stays-in-store': 2, 'get-a-cookie': 1 } },
      [L2.slug]: { solved: [], hints: { [L2.tasks[0]!.id]: 1 } },
    });
    assert.deepEqual(await solvedOf(b, L1.slug), ['get-a-cookie', 'data-stays-in-store', 'rename-the-cookie']);
    // The source learner is unchanged.
    assert.deepEqual(await exportOf(a.learner), fromA);
    // Importing the same file again changes nothing.
    assert.equal((await importText(b, JSON.stringify(fromA))).status, 200);
    assert.deepEqual((await exportOf(b)).lessons[L1.slug]!.solved, ['data-stays-in-store', 'get-a-cookie', 'rename-the-cookie']);
  });

  it('accepts a file with only hints, or a lesson with neither list', async () => {
    const learner = new CookieClient(lab.baseUrl);
    await openLesson(learner, L1.slug);
    const res = await importText(learner, exportFile({ [L1.slug]: { hints: { 'get-a-cookie': 1 } }, [L2.slug]: {} }));
    assert.deepEqual(res, { status: 200, message: 'Imported: 0 solved task(s) merged into your progress.', alert: false });
    assert.deepEqual((await exportOf(learner)).lessons, { [L1.slug]: { solved: [], hints: { 'get-a-cookie': 1 } } });
  });

  describe('a bad import answers 400 with the reason, and changes nothing', () => {
    const good = { [L1.slug]: { solved: ['rename-the-cookie'], hints: {} } };
    const cases: { name: string; text: string; message: string }[] = [
      { name: 'nothing', text: '   ', message: 'Nothing imported: choose a progress file (or paste its JSON) first.' },
      { name: 'not JSON', text: '{"format": "cookie-lab-progress",', message: 'Nothing imported: the file is not valid JSON.' },
      { name: 'a JSON list', text: '[1, 2]', message: 'Nothing imported: the file is not a Cookie Lab progress export (expected a JSON object).' },
      { name: 'JSON null', text: 'null', message: 'Nothing imported: the file is not a Cookie Lab progress export (expected a JSON object).' },
      {
        name: 'the wrong format',
        text: JSON.stringify({ format: 'something-else', version: 1, lessons: {} }),
        message: 'Nothing imported: the file is not a Cookie Lab progress export (its "format" is not "cookie-lab-progress").',
      },
      { name: 'another version', text: JSON.stringify({ format: 'cookie-lab-progress', version: 2, lessons: {} }), message: 'Nothing imported: this lab reads version 1 exports; the file says version 2.' },
      { name: 'no version', text: JSON.stringify({ format: 'cookie-lab-progress', lessons: {} }), message: 'Nothing imported: this lab reads version 1 exports; the file says version undefined.' },
      { name: 'lessons as a list', text: JSON.stringify({ format: 'cookie-lab-progress', version: 1, lessons: [] }), message: 'Nothing imported: "lessons" must be an object.' },
      { name: 'an unknown lesson', text: exportFile({ 'no-such-lesson': { solved: [] } }), message: 'Nothing imported: there is no lesson "no-such-lesson".' },
      { name: 'an unknown task', text: exportFile({ [L1.slug]: { solved: ['no-such-task'] } }), message: `Nothing imported: lesson "${L1.slug}" has no task "no-such-task".` },
      { name: 'a task of another lesson', text: exportFile({ [L1.slug]: { solved: [L2.tasks[0]!.id] } }), message: `Nothing imported: lesson "${L1.slug}" has no task "${L2.tasks[0]!.id}".` },
      { name: 'a task id that is not text', text: exportFile({ [L1.slug]: { solved: [1] } }), message: `Nothing imported: lesson "${L1.slug}" has no task 1.` },
      { name: 'solved not a list', text: exportFile({ [L1.slug]: { solved: 'get-a-cookie' } }), message: `Nothing imported: lessons.${L1.slug}.solved must be a list of task ids.` },
      { name: 'hints for an unknown task', text: exportFile({ [L1.slug]: { hints: { 'no-such-task': 1 } } }), message: `Nothing imported: lesson "${L1.slug}" has no task "no-such-task".` },
      { name: 'negative hints', text: exportFile({ [L1.slug]: { hints: { 'get-a-cookie': -1 } } }), message: `Nothing imported: lessons.${L1.slug}.hints.get-a-cookie must be a whole number from 0 to 1 (the task's hints).` },
      { name: 'fractional hints', text: exportFile({ [L1.slug]: { hints: { 'get-a-cookie': 0.5 } } }), message: `Nothing imported: lessons.${L1.slug}.hints.get-a-cookie must be a whole number from 0 to 1 (the task's hints).` },
      { name: 'hints as text', text: exportFile({ [L1.slug]: { hints: { 'get-a-cookie': '1' } } }), message: `Nothing imported: lessons.${L1.slug}.hints.get-a-cookie must be a whole number from 0 to 1 (the task's hints).` },
      { name: 'hints as a list', text: exportFile({ [L1.slug]: { hints: [1] } }), message: `Nothing imported: lessons.${L1.slug}.hints must be an object.` },
      { name: 'a lesson entry that is not an object', text: exportFile({ [L1.slug]: 'all of it' }), message: `Nothing imported: lessons.${L1.slug} must be an object with "solved" and "hints".` },
      {
        name: 'a good lesson then a bad one (none of it is applied)',
        text: exportFile({ ...good, [L2.slug]: { solved: ['no-such-task'] } }),
        message: `Nothing imported: lesson "${L2.slug}" has no task "no-such-task".`,
      },
    ];

    let learner: CookieClient;
    let saved: ProgressExport;
    before(async () => {
      ({ learner } = await learnerWithProgress());
      await showHint(learner, L1.slug, 'data-stays-in-store');
      saved = await exportOf(learner);
      assert.deepEqual(saved.lessons, { [L1.slug]: { solved: ["get-a-cookie"], hints: { "data-stays-in-store": 1 } } });
    });

    for (const c of cases) {
      it(c.name, async () => {
        const res = await importText(learner, c.text);
        assert.deepEqual(res, { status: 400, message: c.message, alert: true });
        assert.deepEqual(await exportOf(learner), saved, 'nothing changed');
      });
    }

    it('a body over the size limit: 413, "too large"', async () => {
      const padded = exportFile({ ...good, [L2.slug]: { solved: [], hints: {} } }).replace('"version":1', `"padding":"${'x'.repeat(20_000)}","version":1`);
      const res = await learner.request('/progress/import', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ progress: padded }).toString(),
      });
      assert.equal(res.status, 413);
      assert.deepEqual(await res.json(), { error: { message: 'the request body is too large' } });
      const page = await learner.request('/progress/import', {
        method: 'POST',
        headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ progress: padded }).toString(),
      });
      assert.equal(page.status, 413);
      assert.match(await page.text(), /the request body is too large/);
      assert.deepEqual(await exportOf(learner), saved, 'nothing changed');
    });

    it(
      'a lesson entry given as a list is refused, not read as empty',
      async () => {
        const res = await importText(learner, exportFile({ [L1.slug]: ['rename-the-cookie'] }));
        assert.deepEqual(res, { status: 400, message: `Nothing imported: lessons.${L1.slug} must be an object with "solved" and "hints".`, alert: true });
        assert.deepEqual(await exportOf(learner), saved, 'nothing changed');
      },
    );

    it(
      'a hint count above the task\'s number of hints is refused or capped, as POST hints caps it',
      async () => {
        const own = new CookieClient(lab.baseUrl);
        await openLesson(own, L1.slug);
        const res = await importText(own, exportFile({ [L1.slug]: { hints: { 'rename-the-cookie': 20 } } }));
        const count = (await exportOf(own)).lessons[L1.slug]?.hints['rename-the-cookie'] ?? 0;
        const max = L1.tasks.find((t) => t.id === 'rename-the-cookie')!.hints.length;
        assert.ok(res.status === 400 || count <= max, `imported ${res.status}; the export now says ${count} hints shown of ${max}`);
      },
    );
  });
});

describe('reset', () => {
  it('forgets solved tasks and hints, keeps the lesson sandbox and its requests, puts its options back', async () => {
    const { learner, sandboxId, browser } = await learnerWithProgress(true);
    await showHint(learner, L1.slug, 'rename-the-cookie');
    await updateOptions(lab.baseUrl, sandboxId, { rolling: true });
    assert.equal((await countsOn(learner, '/progress'))[L1.slug], '2 of 3');

    const res = await learner.request('/progress/reset', { method: 'POST', headers: HTML });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/progress');

    assert.deepEqual((await exportOf(learner)).lessons, {});
    assert.equal((await countsOn(learner, '/progress'))[L1.slug], '0 of 3');
    assert.equal((await countsOn(learner, '/lessons'))[L1.slug], '0 of 3');
    // The sandbox and its recorded requests are kept, its options are the lesson's again (a lesson
    // redone as written behaves as written; test/lesson-reset.test.ts has the cookies)...
    assert.equal((await readOptions(lab.baseUrl, sandboxId)).rolling, false);
    assert.equal((await readExchanges(lab.baseUrl, sandboxId)).length, 2);
    // ...and it is still the lesson's sandbox; the hints are gone.
    assert.equal((await openLesson(learner, L1.slug)).sandboxId, sandboxId);
    const card = (await tasksOf(learner, L1.slug)).get('rename-the-cookie')!;
    assert.equal(card.solved, false);
    assert.equal(card.hintsListed, 0);
    const hints = L1.tasks.find((task) => task.id === 'rename-the-cookie')!.hints.length;
    assert.equal(card.hintButton, `Show a hint (1 of ${hints})`, 'every hint can be shown again');
    // New requests in the kept sandbox still count.
    await updateOptions(lab.baseUrl, sandboxId, { name: 'lab_sid' });
    await write(browser, sandboxId, 'user', 'grace');
    assert.equal((await tasksOf(learner, L1.slug)).get('rename-the-cookie')!.solved, true);
  });

  it(
    'after a reset, the requests made before it do not solve the tasks again',
    async () => {
      const { learner, sandboxId } = await learnerWithProgress(true);
      assert.deepEqual(await solvedOf(learner, L1.slug), ['get-a-cookie', 'data-stays-in-store']);
      await learner.request('/progress/reset', { method: 'POST' });
      assert.deepEqual((await exportOf(learner)).lessons, {});
      // The learner opens the lesson again, to start over; nothing new happened in the sandbox.
      const opened = await openLesson(learner, L1.slug);
      assert.equal(opened.sandboxId, sandboxId);
      assert.deepEqual([...parseTasks(opened.html)].filter(([, t]) => t.solved).map(([id]) => id), [], 'no task is solved on the page');
      assert.deepEqual((await exportOf(learner)).lessons, {}, 'and none is stored as solved');
    },
  );

  it('without a session: a redirect, and no session started', async () => {
    const visitor = new CookieClient(lab.baseUrl);
    const res = await visitor.request('/progress/reset', { method: 'POST' });
    assert.equal(res.status, 303);
    assert.equal(visitor.jar.size, 0);
  });
});

describe('two learners', () => {
  it('never see each other\'s progress, sandboxes or hints', async () => {
    const ada = new CookieClient(lab.baseUrl);
    const grace = new CookieClient(lab.baseUrl);
    const adaLesson = await openLesson(ada, L1.slug);
    const graceLesson = await openLesson(grace, L1.slug);
    assert.notEqual(adaLesson.sandboxId, graceLesson.sandboxId);
    assert.notEqual(ada.jar.get(SITE_COOKIE), grace.jar.get(SITE_COOKIE));

    await write(new CookieClient(lab.baseUrl), adaLesson.sandboxId, 'user', 'ada');
    await showHint(ada, L1.slug, 'data-stays-in-store');
    await showHint(grace, L1.slug, 'rename-the-cookie');

    assert.deepEqual(await solvedOf(ada, L1.slug), ['get-a-cookie']);
    assert.deepEqual(await solvedOf(grace, L1.slug), []);
    assert.deepEqual((await exportOf(ada)).lessons, { [L1.slug]: { solved: ['get-a-cookie'], hints: { 'data-stays-in-store': 1 } } });
    assert.deepEqual((await exportOf(grace)).lessons, { [L1.slug]: { solved: [], hints: { 'rename-the-cookie': 1 } } });
    assert.equal((await countsOn(ada, '/lessons'))[L1.slug], '1 of 3');
    assert.equal((await countsOn(grace, '/lessons'))[L1.slug], '0 of 3');

    // One resetting or importing leaves the other alone.
    await grace.request('/progress/reset', { method: 'POST' });
    assert.equal((await importText(grace, exportFile({ [L1.slug]: { solved: ['rename-the-cookie'] } }))).status, 200);
    assert.deepEqual((await exportOf(ada)).lessons, { [L1.slug]: { solved: ['get-a-cookie'], hints: { 'data-stays-in-store': 1 } } });
    assert.deepEqual((await exportOf(grace)).lessons, { [L1.slug]: { solved: ['rename-the-cookie'], hints: {} } });
    assert.equal((await openLesson(grace, L1.slug)).sandboxId, graceLesson.sandboxId);
  });
});

// ProgressStore keeps a lesson's progress in memory (a page and its task refreshes read it within
// moments). Its own writes must show at once; another process's within otherWritesWithinMs.
describe('progress kept in memory', () => {
  async function twoProcesses(otherWritesWithinMs: number) {
    const here = await lab.database.open({ otherWritesWithinMs });
    const there = await lab.database.open({ otherWritesWithinMs });
    return {
      here: new ProgressStore(here),
      hereDb: here,
      there: new ProgressStore(there),
      close: async () => {
        await here.close();
        await there.close();
      },
    };
  }

  it('every write through this process shows in the next read at once', async () => {
    const { here, close } = await twoProcesses(60_000);
    try {
      const learner = `cache-own-${Date.now()}`;
      const read = () => here.forLesson(learner, L1.slug);
      assert.equal((await read()).sandboxId, null);
      assert.equal(await here.claimSandbox(learner, L1.slug, 'AAAAAAAAAAAAAAAAAAAAAA', null), 'AAAAAAAAAAAAAAAAAAAAAA');
      assert.equal((await read()).sandboxId, 'AAAAAAAAAAAAAAAAAAAAAA');
      await here.claimSandbox(learner, L1.slug, 'BBBBBBBBBBBBBBBBBBBBBB', 'AAAAAAAAAAAAAAAAAAAAAA');
      assert.equal((await read()).sandboxId, 'BBBBBBBBBBBBBBBBBBBBBB');
      await here.markSolved(learner, L1.slug, 'get-a-cookie');
      assert.deepEqual([...(await read()).solved], ['get-a-cookie']);
      await here.showHints(learner, L1.slug, 'rename-the-cookie', 1);
      assert.equal((await read()).hints.get('rename-the-cookie'), 1);
      const before = Date.now();
      await here.reset(learner);
      const afterReset = await read();
      assert.deepEqual([...afterReset.solved], []);
      assert.deepEqual([...afterReset.hints], []);
      assert.ok(afterReset.resetAt >= before);
      await here.importProgress(learner, JSON.parse(exportFile({ [L1.slug]: { solved: ['rename-the-cookie'] } })), lessons);
      assert.deepEqual([...(await read()).solved], ['rename-the-cookie']);
    } finally {
      await close();
    }
  });

  it('with no other process writing, a lesson\'s progress is read from the database once', async () => {
    const db = await lab.database.open();
    let reads = 0;
    const progress = new ProgressStore({ ...db, get: (sql, params) => (reads++, db.get(sql, params)), all: (sql, params) => (reads++, db.all(sql, params)) });
    try {
      const learner = `cache-reads-${Date.now()}`;
      for (let i = 0; i < 5; i++) await progress.forLesson(learner, L1.slug);
      assert.equal(reads, 1);
    } finally {
      await db.close();
    }
  });

  /** A database file of its own: these clean-ups count every sandbox in it as abandoned. */
  async function withOwnDatabase(use: (lab: { db: Database; registry: SandboxRegistry; progress: ProgressStore }) => Promise<void>) {
    const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-cleanup-'));
    const db = await openDatabase(join(dir, 'lab.sqlite'));
    try {
      await use({ db, registry: new SandboxRegistry(db), progress: new ProgressStore(db) });
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  /** Every sandbox in the file counts as abandoned from a moment from now. */
  const everythingAbandoned = () => [{ everyMs: 60_000, abandonedAfterMs: 1 }, Date.now() + 10] as const;

  it('a lesson sandbox the clean-up deleted is forgotten at once, and the next one is kept', () =>
    withOwnDatabase(async ({ db, registry, progress }) => {
      const learner = `cache-cleanup-${Date.now()}`;
      const old = await registry.create(articleOptions);
      await progress.claimSandbox(learner, L1.slug, old.id, null);
      assert.equal((await progress.forLesson(learner, L1.slug)).sandboxId, old.id);
      await cleanUp(db, registry, progress, ...everythingAbandoned());
      assert.equal((await progress.forLesson(learner, L1.slug)).sandboxId, null, 'the deleted sandbox is not served from memory');
      // The lesson page then makes a new one, replacing the stale id whose row is gone.
      const next = await registry.create(articleOptions);
      assert.equal(await progress.claimSandbox(learner, L1.slug, next.id, old.id), next.id);
      assert.equal((await progress.forLesson(learner, L1.slug)).sandboxId, next.id);
    }));

  it('a sandbox used while the clean-up runs keeps its sessions and its place in the lesson', () =>
    withOwnDatabase(async ({ db, registry, progress }) => {
      const learner = `cleanup-race-${Date.now()}`;
      const sandbox = await registry.create(articleOptions);
      await progress.claimSandbox(learner, L1.slug, sandbox.id, null);
      await db.run('INSERT INTO sessions (namespace, sid, sess, expires_at) VALUES (?, ?, ?, ?)', [sandbox.id, 'sid', '{}', Date.now() + 3_600_000]);
      // The learner uses it between the clean-up's query and its deletion.
      const racing: Database = {
        ...db,
        run: async (sql, params) => {
          if (sql.startsWith('DELETE FROM sandboxes')) await db.run('UPDATE sandboxes SET last_used_at = ? WHERE id = ?', [Date.now() + 60_000, sandbox.id]);
          return db.run(sql, params);
        },
      };
      const report = await cleanUp(racing, registry, progress, ...everythingAbandoned());
      assert.equal(report.abandonedSandboxes, 0);
      assert.equal((await progress.forLesson(learner, L1.slug)).sandboxId, sandbox.id);
      assert.equal(await registry.find(sandbox.id), sandbox);
      assert.equal((await db.all('SELECT sid FROM sessions WHERE namespace = ?', [sandbox.id])).length, 1);
    }));

  it('another process\'s write shows once otherWritesWithinMs has passed', async () => {
    const { here, hereDb, there, close } = await twoProcesses(150);
    try {
      const learner = `cache-other-${Date.now()}`;
      // Time passing is what is tested: the clock is moved past otherWritesWithinMs by hand.
      await withHandClock(async (clock) => {
        assert.deepEqual([...(await here.forLesson(learner, L1.slug)).solved], []);
        // PostgreSQL tells this instance at once (a notification); SQLite, when it next looks.
        const told = hereDb.changes('solved_tasks').changed?.();
        await there.markSolved(learner, L1.slug, 'get-a-cookie');
        if (told) await told;
        else clock.tick(200);
        assert.deepEqual([...(await here.forLesson(learner, L1.slug)).solved], ['get-a-cookie']);
      });
    } finally {
      await close();
    }
  });
});
