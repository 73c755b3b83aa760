// The lesson validator's strictness (every unknown key, every value no check or step could use,
// named by file, task and key), and `npm run lessons:check`, run as a teacher runs it: on the real
// course, on a lesson whose solution does not solve its task, and on an invalid one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadLessons } from '../server/lessons/loader.ts';
import { courseFor, NO_FEATURES } from '../server/lessons/features.ts';
import { LessonError } from '../server/lessons/schema.ts';

const root = join(import.meta.dirname, '..');
const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

type Data = Record<string, unknown>;

const WRITE_CHECK = { kind: 'exchange', description: 'a write answered with a Set-Cookie', where: { action: 'write', setCookie: true } };

function task(overrides: Data = {}): Data {
  return { id: 'sign', title: 'Sign it', instructions: 'Press **Write**.', check: WRITE_CHECK, hints: ['Press **Write**.'], why: 'It was new and modified.', solution: [{ request: 'write', key: 'user', value: 'ada' }], ...overrides };
}

function lesson(overrides: Data = {}): Data {
  return { title: 'A test lesson', summary: 'One sentence.', tasks: [task()], ...overrides };
}

/** Writes the lessons (file name to front matter) into a fresh folder. */
function folder(files: Record<string, Data>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-check-'));
  temps.push(dir);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), `---\n${stringify(data)}---\nThe body.\n`);
  return dir;
}

/** Loading `data` as lessons/02-x.md must fail with a message holding each part, in order, after the file's name. */
function rejected(data: Data, ...parts: string[]): void {
  const dir = folder({ '02-x.md': data });
  let message = '';
  assert.throws(
    () => loadLessons(dir),
    (err: unknown) => {
      assert.ok(err instanceof LessonError, `expected a LessonError, got ${String(err)}`);
      message = err.message;
      return true;
    },
    `${JSON.stringify(data.tasks ?? data)} should be refused`,
  );
  assert.ok(message.startsWith('lessons/02-x.md: '), `the message names the file first: ${message}`);
  let from = 0;
  for (const part of parts) {
    const at = message.indexOf(part, from);
    assert.ok(at !== -1, `the message should contain ${JSON.stringify(part)} (after position ${from}): ${message}`);
    from = at + part.length;
  }
}

const withStep = (...solution: Data[]) => lesson({ tasks: [task({ solution })] });
const withCheck = (check: Data, solution?: Data[]) => lesson({ tasks: [task(solution ? { check, solution } : { check })] });
const exchange = (where: Data, extra: Data = {}) => withCheck({ kind: 'exchange', description: 'something', where, ...extra });
const options = (where: Data) => withCheck({ kind: 'options', description: 'some options', where });

describe('the validator refuses every key it does not know', () => {
  it('in a solution step, naming the step and the keys it takes', () => {
    rejected(withStep({ request: 'write' }, { request: 'write', kye: 'user' }), 'task "sign": solution[1]: ', 'unknown key "kye"; a request step takes: request, key, value, ms');
    rejected(withStep({ option: 'resave', value: true, vaule: false }), 'task "sign": solution[0]: ', 'unknown key "vaule"; an option step takes: option, value');
    rejected(withStep({ probe: true, wait: 100 }), 'task "sign": solution[0]: ', 'a step is one of: option, request, probe, wait, together', 'this one has probe and wait');
    rejected(withStep({ wait: 100, ms: 100 }), 'task "sign": solution[0]: ', 'unknown key "ms"; a wait step takes: wait');
    rejected(withStep({ together: [{ request: 'slow' }, { request: 'write' }], ms: 1500 }), 'task "sign": solution[0]: ', 'unknown key "ms"; a together step takes: together');
    rejected(withStep({ together: [{ request: 'slow' }, { request: 'write', vlaue: 'x' }] }), 'task "sign": solution[0].together[1]: ', 'unknown key "vlaue"');
  });

  it('in a check of every kind, naming the keys that kind takes', () => {
    const probe = { kind: 'probe', description: 'no cookie seen', cookieVisible: false };
    rejected(withCheck({ ...probe, where: { action: 'write' } }, [{ probe: true }]), 'task "sign": check: ', 'unknown key "where"; a probe check takes: kind, description, cookieVisible');
    rejected(exchange({ action: 'write' }, { wich: 'any' }), 'task "sign": check: ', 'unknown key "wich"; an exchange check takes: kind, description, which, where');
    rejected(withCheck({ kind: 'options', description: 'x', which: 'any', where: { resave: true } }), 'task "sign": check: ', 'unknown key "which"; an options check takes: kind, description, where');
    rejected(withCheck({ kind: 'race', description: 'x', resave: true, kept: false, where: {} }), 'task "sign": check: ', 'unknown key "where"; a race check takes: kind, description, resave, kept');
    rejected(withCheck({ kind: 'all', description: 'x', checks: [WRITE_CHECK], which: 'any' }), 'task "sign": check: ', 'unknown key "which"; an all check takes: kind, description, checks');
    rejected(withCheck({ kind: 'all', description: 'x', checks: [{ ...WRITE_CHECK, wich: 'any' }] }), 'task "sign": check.checks[0]: ', 'unknown key "wich"');
  });

  it('in the conditions, at every depth', () => {
    rejected(exchange({ action: 'write', setcookie: true }), 'task "sign": check.where: ', 'unknown key "setcookie"');
    rejected(exchange({ attributes: { httponly: true } }), 'task "sign": check.where.attributes: ', 'unknown key "httponly"; an attributes condition takes: httpOnly, secure, expires, sameSite, domain');
    rejected(exchange({ storeCalls: { include: ['get'] } }), 'task "sign": check.where.storeCalls: ', 'unknown key "include"; a storeCalls condition takes: includes, excludes');
    rejected(exchange({ sessionAfter: { exist: true } }), 'task "sign": check.where.sessionAfter: ', 'unknown key "exist"; a sessionAfter condition takes: exists, has, lacks');
    rejected(exchange({ options: { cookie: { maxage: 1000 } } }), 'task "sign": check.where.options.cookie: ', 'unknown key "maxage"; a cookie condition takes: maxAge, secure, httpOnly, sameSite, domain');
    rejected(options({ resaev: true }), 'task "sign": check.where: ', 'unknown key "resaev"; an options condition takes: name, secretCount');
    rejected(options({ name: { not: 'mycookie', also: 'sid' } }), 'task "sign": check.where.name: ', 'unknown key "also"; a name condition takes: not');
  });

  it('in the front matter, the article, a link and a task', () => {
    rejected(lesson({ sumary: 'typo' }), 'front matter: ', 'unknown key "sumary"; the front matter takes: title, summary, article, sandbox, links, tasks');
    rejected(lesson({ article: { quote: 'q', verdict: 'v', source: 'x' } }), 'article: ', 'unknown key "source"; article takes: quote, verdict');
    rejected(lesson({ links: [{ title: 'MDN', url: 'https://developer.mozilla.org/', rel: 'x' }] }), 'links[0]: ', 'unknown key "rel"; a link takes: title, url');
    rejected(lesson({ tasks: [task({ hint: ['x'] })] }), 'task "sign": ', 'unknown key "hint"; a task takes: id, title');
  });
});

describe('the validator refuses values no replay or check could use', () => {
  it('a misspelt which', () => {
    rejected(exchange({ action: 'write' }, { which: 'anyy' }), 'task "sign": check.which: ', 'must be "latest" or "any"');
  });

  it('a request input its button has no field for, a probe step that is not true, a lone "together"', () => {
    rejected(withStep({ request: 'visit', key: 'user' }), 'task "sign": solution[0]: ', 'a visit request takes no "key"; it takes: request');
    rejected(withStep({ request: 'write', ms: 100 }), 'task "sign": solution[0]: ', 'a write request takes no "ms"; it takes: request, key, value');
    rejected(withStep({ request: 'slow', ms: 1550.5 }), 'task "sign": solution[0].ms: ', 'whole number');
    rejected(withStep({ probe: false }), 'task "sign": solution[0].probe: ', 'must be true');
    rejected(withStep({ together: [{ request: 'slow' }] }), 'task "sign": solution[0].together: ', 'at least one step');
  });

  it('an option value the form or the sandbox would refuse', () => {
    rejected(withStep({ option: 'resave', value: 'yes' }), 'task "sign": solution[0].value: ', 'must be true or false');
    rejected(withStep({ option: 'cookie.secure', value: 'maybe' }), 'task "sign": solution[0].value: ', 'no sandbox can hold this value', 'cookie.secure must be true, false or "auto"');
    rejected(withStep({ option: 'cookie.maxAge', value: 'soon' }), 'task "sign": solution[0].value: ', 'cookie.maxAge must be a whole number');
    rejected(withStep({ option: 'store', value: 'mongodb' }), 'task "sign": solution[0].value: ', 'store must be one of');
  });

  it('conditions that could never hold', () => {
    rejected(exchange({}), 'task "sign": check.where: ', 'must not be empty');
    rejected(options({}), 'task "sign": check.where: ', 'must not be empty');
    rejected(exchange({ action: 'restart' }), 'task "sign": check.where.action: ', 'must be one of: visit, write, slow, regenerate, destroy, unset');
    rejected(exchange({ attributes: { secure: 'yes' } }), 'task "sign": check.where.attributes.secure: ', 'must be true (present) or false (absent)');
    rejected(exchange({ attributes: { sameSite: 'laxx' } }), 'task "sign": check.where.attributes.sameSite: ', 'must be true, false or one of: lax, strict, none');
    rejected(exchange({ storeCalls: { includes: ['set'], excludes: ['set'] } }), 'task "sign": check.where.storeCalls: ', '"set" is both included and excluded');
    rejected(exchange({ verifiedBy: 7 }), 'task "sign": check.where.verifiedBy: ', 'must be a secret index');
    rejected(options({ cookie: { sameSite: 'Lax' } }), 'task "sign": check.where.cookie.sameSite: ', 'write it as the sandbox holds it: "lax"');
    rejected(options({ cookie: { secure: { oneOf: [true, 'maybe'] } } }), 'task "sign": check.where.cookie.secure.oneOf[1]: ', 'no sandbox can hold this value');
    rejected(options({ cookie: { httpOnly: { atMost: 1 } } }), 'task "sign": check.where.cookie.httpOnly: ', '{ atMost: n } is for numbers');
    rejected(options({ cookie: { maxAge: { atLeast: 'an hour' } } }), 'task "sign": check.where.cookie.maxAge.atLeast: ', 'must be a number');
    rejected(options({ unset: 'keepp' }), 'task "sign": check.where.unset: ', 'no sandbox can hold this value');
    rejected(options({ secretCount: 9 }), 'task "sign": check.where.secretCount: ', 'from 1 to 5');
  });

  it('a check that reads the probe, with no probe step in the solution', () => {
    rejected(withCheck({ kind: 'probe', description: 'no cookie seen', cookieVisible: false }), 'task "sign": solution: ', 'needs a "probe: true" step');
  });
});

/** Runs `npm run lessons:check`'s script as npm would, from the project's folder. */
function lessonsCheck(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/lessons/check-command.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run lessons:check', () => {
  it('passes on the real course: every task solved, or (probe tasks) left to the browser replay', async () => {
    const { code, stdout, stderr } = await lessonsCheck();
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
    // The replay's lab is one process without Redis: it replays what that lab offers.
    const lessons = courseFor(loadLessons(join(root, 'lessons')), NO_FEATURES);
    for (const l of lessons) {
      assert.match(stdout, new RegExp(`^ok +${l.file}: `, 'm'), `one line for ${l.file}`);
      for (const t of l.tasks) assert.match(stdout, new RegExp(`^  (solved|browser) +task "${t.id}"`, 'm'), `one line for ${l.file}'s task ${t.id}`);
    }
    assert.match(stdout, /task "hidden-by-default": needs the browser replay \(1 probe step skipped; the rest of its check holds\)/);
    assert.match(stdout, / 0 failed$/m);
    assert.match(stdout, /npx playwright test e2e\/lessons\.spec\.ts/);
  });

  it('fails, naming the file and the task, when a solution does not solve its task', async () => {
    const regenerate = { kind: 'exchange', description: 'a regenerate answered with a Set-Cookie', where: { action: 'regenerate', setCookie: true } };
    const unsolved = task({ id: 'no-cookie', check: regenerate, solution: [{ request: 'visit' }] });
    const dir = folder({ '01-fine.md': lesson(), '02-broken.md': lesson({ tasks: [task(), unsolved, task({ id: 'after' })] }) });
    const { code, stdout, stderr } = await lessonsCheck(dir);
    assert.equal(code, 1, `exit ${code}\n${stdout}\n${stderr}`);
    assert.match(stdout, new RegExp(`^ok +${dir}/01-fine\\.md: `, 'm'));
    assert.match(stdout, new RegExp(`^FAILED +${dir}/02-broken\\.md: `, 'm'));
    assert.match(stdout, /^ {2}not run task "after"/m, 'the tasks after a failed one are not run');
    assert.ok(stderr.includes(`failed: ${dir}/02-broken.md: task "no-cookie": Expected a regenerate answered with a Set-Cookie, but in exchange #2 (visit) the request was "visit", not "regenerate".`), stderr);
  });

  it('fails when a task is already solved before its steps run', async () => {
    const dir = folder({ '01-twice.md': lesson({ tasks: [task(), task({ id: 'again' })] }) });
    const { code, stderr } = await lessonsCheck(dir);
    assert.equal(code, 1);
    assert.match(stderr, /01-twice\.md: task "again": already solved before its steps ran/);
  });

  it('fails on an invalid lesson, naming the file, the task and the key, before replaying anything', async () => {
    const dir = folder({ '01-typo.md': withStep({ request: 'write', kye: 'user' }) });
    const { code, stdout, stderr } = await lessonsCheck(dir);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.ok(stderr.includes(`${dir}/01-typo.md: task "sign": solution[0]: unknown key "kye"; a request step takes: request, key, value, ms`), stderr);
  });
});
