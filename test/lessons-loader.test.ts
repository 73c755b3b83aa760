// The lesson loader and its schema: the real course loads, and every kind of bad lesson file stops
// start-up with a message naming the file, the task (when there is one) and the field at fault.
// Bad files are written to a temporary lessons folder per test. It is long because it keeps one
// case per kind of mistake; the stricter checks (unknown keys, values that can never match) and
// `npm run lessons:check` are in lessons-check.test.ts.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { loadLessons } from '../server/lessons/loader.ts';
import { fillLesson } from '../server/lessons/placeholders.ts';
import { LessonError, type Lesson } from '../server/lessons/schema.ts';
import { openDatabase } from '../server/db/database.ts';
import type { buildApp as BuildApp } from '../server/app.ts';
import { testConfig } from './support/lab.ts';

const root = join(import.meta.dirname, '..');
const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

type Data = Record<string, unknown>;

function task(id: string, overrides: Data = {}): Data {
  return {
    id,
    title: `Task ${id}`,
    instructions: 'Press **Write**.',
    check: { kind: 'exchange', description: 'a write answered with a Set-Cookie', where: { action: 'write', setCookie: true } },
    hints: ['Press **Write**.'],
    why: 'The session was new and modified.',
    solution: [{ request: 'write', key: 'user', value: 'ada' }],
    ...overrides,
  };
}

function lesson(overrides: Data = {}): Data {
  return {
    title: 'A test lesson',
    summary: 'One sentence about it.',
    sandbox: { name: 'mycookie' },
    links: [{ title: 'MDN, Set-Cookie', url: 'https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Set-Cookie' }],
    tasks: [task('first'), task('second')],
    ...overrides,
  };
}

/** A lesson whose single task has `overrides` applied. */
function lessonWithTask(overrides: Data): Data {
  return lesson({ tasks: [task('only', overrides)] });
}

function source(data: Data, body = 'Some **Markdown** body.\n'): string {
  return `---\n${stringify(data)}---\n${body}`;
}

/** Writes the files (name to content) into a fresh folder and loads it. */
function load(files: Record<string, string>): Lesson[] {
  const dir = tempDir('cookie-lab-lessons-');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return loadLessons(dir);
}

/**
 * Loading must throw a LessonError whose message starts with the file and contains every part
 * (the task, the field, what is wrong), in that order.
 */
function assertLessonError(files: Record<string, string>, file: string, ...parts: string[]): string {
  let message = '';
  assert.throws(
    () => load(files),
    (err: unknown) => {
      assert.ok(err instanceof LessonError, `expected a LessonError, got ${String(err)}`);
      message = err.message;
      return true;
    },
  );
  assert.ok(message.startsWith(`lessons/${file}: `), `the message names the file first: ${message}`);
  let from = 0;
  for (const part of parts) {
    const at = message.indexOf(part, from);
    assert.ok(at !== -1, `the message should contain ${JSON.stringify(part)} (after position ${from}): ${message}`);
    from = at + part.length;
  }
  return message;
}

/** One bad lesson file among good ones: the error is about that file. */
function badLesson(data: Data | string, ...parts: string[]): string {
  const files = {
    '01-good.md': source(lesson()),
    '02-bad-one.md': typeof data === 'string' ? data : source(data),
  };
  return assertLessonError(files, '02-bad-one.md', ...parts);
}

describe('the real course in lessons/', () => {
  const lessons = loadLessons(join(root, 'lessons'));

  it('loads 11 lessons numbered 1 to 11, in order, with unique slugs', () => {
    assert.equal(lessons.length, 11);
    assert.deepEqual(
      lessons.map((l) => l.number),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    const slugs = lessons.map((l) => l.slug);
    assert.equal(new Set(slugs).size, slugs.length, `slugs repeat: ${slugs.join(', ')}`);
    for (const l of lessons) {
      assert.match(l.slug, /^[a-z0-9-]+$/);
      assert.equal(l.file, `lessons/${String(l.number).padStart(2, '0')}-${l.slug}.md`);
      assert.ok(l.title.trim() && l.summary.trim(), `${l.file} has a title and a summary`);
      assert.ok(l.body.includes('<p>'), `${l.file}: the body is rendered Markdown`);
    }
  });

  it('gives every task a unique id, a check, instructions, hints, a why and a solution', () => {
    for (const l of lessons) {
      assert.ok(l.tasks.length >= 1, `${l.file} has tasks`);
      const ids = l.tasks.map((t) => t.id);
      assert.equal(new Set(ids).size, ids.length, `${l.file}: task ids repeat`);
      for (const t of l.tasks) {
        const where = `${l.file}, task "${t.id}"`;
        assert.match(t.id, /^[a-z0-9-]+$/, where);
        assert.ok(t.title.trim(), `${where}: title`);
        assert.ok(t.instructions.trim(), `${where}: instructions`);
        assert.ok(t.check.description.trim(), `${where}: check.description`);
        assert.ok(t.hints.length >= 1 && t.hints.every((h) => h.trim() !== ''), `${where}: hints`);
        assert.ok(t.why.trim(), `${where}: why`);
        assert.ok(t.solution.length >= 1, `${where}: solution`);
      }
    }
  });

  it('links only to https:// addresses', () => {
    for (const l of lessons) for (const link of l.links) assert.match(link.url, /^https:\/\//, `${l.file}: ${link.url}`);
  });
});

describe('a good lesson file', () => {
  it('loads, with its Markdown rendered and its sandbox options normalized', () => {
    const [loaded] = load({ '03-a-good-one.md': source(lesson({ sandbox: { name: 'sid', cookie: { sameSite: 'Lax' } } })) });
    assert.ok(loaded);
    assert.equal(loaded.slug, 'a-good-one');
    assert.equal(loaded.number, 3);
    assert.equal(loaded.file, 'lessons/03-a-good-one.md');
    assert.equal(loaded.body, '<p>Some <strong>Markdown</strong> body.</p>\n');
    assert.equal(loaded.sandbox.name, 'sid');
    assert.equal(loaded.sandbox.cookie.sameSite, 'lax');
    assert.equal(loaded.article, null);
    assert.deepEqual(
      loaded.tasks.map((t) => t.id),
      ['first', 'second'],
    );
    assert.equal(loaded.tasks[0]!.hints[0], 'Press <strong>Write</strong>.');
  });

  it('loads with Windows line endings, and files that are not .md are ignored', () => {
    const lessons = load({ '01-crlf.md': source(lesson()).replace(/\n/g, '\r\n'), 'notes.txt': 'not a lesson' });
    assert.deepEqual(
      lessons.map((l) => l.slug),
      ['crlf'],
    );
  });
});

describe('the {{host}} placeholder', () => {
  it('stays in the rendered HTML, in text and in code, and is filled per host, escaped', () => {
    const [loaded] = load({ '01-host.md': source(lesson({ tasks: [task('first', { why: 'Runs on `http://{{host}}`.', hints: ['You are on **{{host}}**.'] }), task('second')] }), 'From {{host}}.\n') });
    assert.equal(loaded!.body, '<p>From {{host}}.</p>\n');
    const filled = fillLesson(loaded!, { host: 'lab.test' });
    assert.equal(filled.body, '<p>From lab.test.</p>\n');
    assert.equal(filled.tasks[0]!.why, '<p>Runs on <code>http://lab.test</code>.</p>\n');
    assert.equal(filled.tasks[0]!.hints[0], 'You are on <strong>lab.test</strong>.');
    assert.equal(fillLesson(loaded!, { host: '<b>"x"&' }).body, '<p>From &lt;b&gt;&quot;x&quot;&amp;.</p>\n', 'a Host header cannot write HTML');
    assert.equal(fillLesson(loaded!, { host: 'lab.test' }), filled, 'kept per host, not filled again');
    assert.equal(filled.slug, loaded!.slug);
    assert.deepEqual(filled.tasks[0]!.check, loaded!.tasks[0]!.check);
  });
  it('a lesson without one is shown as loaded (the same object)', () => {
    const [loaded] = load({ '01-plain.md': source(lesson()) });
    assert.equal(fillLesson(loaded!, { host: 'lab.test' }), loaded);
  });
  it('the real lessons 5 and 9 name the learner\'s host, not localhost', () => {
    const course = loadLessons(join(root, 'lessons'));
    for (const slug of ['secure', 'samesite-domain-path']) {
      const filled = fillLesson(course.find((l) => l.slug === slug)!, { host: 'lab.test' });
      const why = filled.tasks.map((t) => t.why).join('\n');
      assert.match(why, /<code>(http:\/\/)?lab\.test<\/code>/, slug);
      assert.doesNotMatch(why, /localhost/, slug);
    }
  });
  it('an unknown placeholder, a misspelt one, one in a link\'s address or in a title is refused', () => {
    badLesson({ ...lesson(), tasks: [task('only', { why: 'On {{hots}}.' })] }, 'task "only": why', '{{hots}} is not a placeholder; the placeholders are: {{host}}');
    badLesson({ ...lesson(), tasks: [task('only', { instructions: 'On {{ host }}.' })] }, 'task "only": instructions', '{{ host }} is not a placeholder');
    badLesson({ ...lesson(), tasks: [task('only', { hints: ['See [it](http://{{host}}/lab).'] })] }, 'task "only": hints[0]', "{{host}} must stand in text or in code, not in a link's address");
    badLesson({ ...lesson(), title: 'On {{host}}' }, 'title', 'placeholders are filled in the body');
  });
});

describe('a bad lesson file stops loading, naming the file, the task and the field', () => {
  describe('the file itself', () => {
    for (const name of ['1-short-number.md', '01-Capitals.md', '01_underscore.md', 'intro.md']) {
      it(`a badly named file (${name})`, () => {
        assertLessonError({ [name]: source(lesson()) }, name, 'a lesson file is named NN-slug.md');
      });
    }

    it('no front matter', () => {
      badLesson('# Just Markdown\n\nNo front matter here.\n', 'a lesson starts with front matter between two "---" lines');
    });

    it('front matter that is not valid YAML', () => {
      badLesson('---\ntitle: [unclosed\nsummary: x\n---\nBody\n', 'front matter: ', 'is not valid YAML');
    });

    it('front matter that is not a mapping', () => {
      badLesson('---\n- just\n- a list\n---\nBody\n', 'front matter: ', 'must be a mapping');
    });

    it('two lessons with the same number', () => {
      assertLessonError({ '04-one.md': source(lesson()), '04-two.md': source(lesson()) }, '04-two.md', 'another lesson already has number 4');
    });
  });

  describe('the lesson fields', () => {
    it('an unknown top-level field', () => {
      badLesson(lesson({ subtitle: 'no such field' }), 'front matter: ', 'unknown key "subtitle"', 'title, summary, article, sandbox, links, tasks');
    });

    it('a missing title', () => {
      const data = lesson();
      delete data.title;
      badLesson(data, 'title: ', 'must be a non-empty text');
    });

    it('an empty summary', () => {
      badLesson(lesson({ summary: '   ' }), 'summary: ', 'must be a non-empty text');
    });

    it('an article without its verdict', () => {
      badLesson(lesson({ article: { quote: 'The article says so.' } }), 'article.verdict: ', 'must be a non-empty text');
    });

    it('a bad sandbox option: sandbox.cookie.maxAge: -1', () => {
      badLesson(lesson({ sandbox: { cookie: { maxAge: -1 } } }), 'sandbox.cookie.maxAge: ', 'must not be negative');
    });

    it('a task that requires what no lab can have, or requires given as a word', () => {
      badLesson(lessonWithTask({ requires: ['kafka'] }), 'task "only": requires[0]', 'must be one of: redis, instances');
      badLesson(lessonWithTask({ requires: 'redis' }), 'task "only": requires', '');
    });

    it('a bad sandbox option: an unknown one, and cookie.path', () => {
      badLesson(lesson({ sandbox: { colour: 'blue' } }), 'sandbox.colour: ', 'unknown option');
      badLesson(lesson({ sandbox: { cookie: { path: '/' } } }), 'sandbox.cookie.path: ', 'fixed');
    });

    it('a bad sandbox option: the site cookie\'s name', () => {
      badLesson(lesson({ sandbox: { name: 'cookielab.sid' } }), 'sandbox.name: ', "the lab's own session cookie");
    });

    it('no tasks: an empty list, or none at all', () => {
      badLesson(lesson({ tasks: [] }), 'tasks: ', 'a lesson needs at least one task');
      const data = lesson();
      delete data.tasks;
      badLesson(data, 'tasks: ', 'must be a list');
    });

    it('a link that is not https://', () => {
      badLesson(lesson({ links: [{ title: 'Old', url: 'http://example.com/' }] }), 'links[0].url: ', 'must be an https:// address');
      badLesson(lesson({ links: [{ title: 'Script', url: 'javascript:alert(1)' }] }), 'links[0].url: ', 'must be an https:// address');
    });

    it('a link without a title', () => {
      badLesson(lesson({ links: [{ url: 'https://example.com/' }] }), 'links[0].title: ', 'must be a non-empty text');
    });
  });

  describe('the tasks', () => {
    it('two tasks with the same id', () => {
      badLesson(lesson({ tasks: [task('same'), task('other'), task('same')] }), 'task "same": ', 'two tasks share this id');
    });

    it('a task id that is not lowercase letters, digits and hyphens', () => {
      badLesson(lesson({ tasks: [task('fine'), task('Not_OK')] }), 'task 2: id: ', 'use lowercase letters, digits and hyphens');
    });

    it('a task without an id', () => {
      const bad = task('x');
      delete bad.id;
      badLesson(lesson({ tasks: [bad] }), 'task 1: id: ', 'must be a non-empty text');
    });

    it('an unknown task field', () => {
      badLesson(lessonWithTask({ answer: 42 }), 'task "only": ', 'unknown key "answer"', 'id, title, instructions, check, hints, why, solution');
    });

    it('a task without a why, or with hints that are not a list', () => {
      const noWhy = task('only');
      delete noWhy.why;
      badLesson(lesson({ tasks: [noWhy] }), 'task "only": why: ', 'must be a non-empty text');
      badLesson(lessonWithTask({ hints: 'one hint' }), 'task "only": hints: ', 'must be a list');
      badLesson(lessonWithTask({ hints: ['fine', ''] }), 'task "only": hints[1]: ', 'must be a non-empty text');
    });
  });

  describe('the checks', () => {
    const exchange = (where: Data, extra: Data = {}) => ({ check: { kind: 'exchange', description: 'something', where, ...extra } });

    it('an unknown check kind', () => {
      badLesson(lessonWithTask({ check: { kind: 'cookie', description: 'a cookie' } }), 'task "only": check.kind: ', 'must be one of: exchange, probe, options, race, all');
    });

    it('a check without a description', () => {
      badLesson(lessonWithTask({ check: { kind: 'probe', cookieVisible: true } }), 'task "only": check.description: ', 'must be a non-empty text');
    });

    it('a bad "which"', () => {
      badLesson(lessonWithTask(exchange({ action: 'write' }, { which: 'first' })), 'task "only": check.which: ', 'must be "latest" or "any"');
    });

    it('an exchange check with an unknown condition', () => {
      badLesson(lessonWithTask(exchange({ colour: 'blue' })), 'task "only": check.where: ', 'unknown key "colour"', 'action, setCookie, attributes');
    });

    it('an exchange check with a bad action', () => {
      badLesson(lessonWithTask(exchange({ action: 'jump' })), 'task "only": check.where.action: ', 'must be one of: visit, write, slow');
    });

    it('an exchange check with a bad attribute, or a bad attribute value', () => {
      badLesson(lessonWithTask(exchange({ attributes: { path: '/x' } })), 'task "only": check.where.attributes: ', 'unknown key "path"', 'httpOnly, secure, expires, sameSite, domain');
      badLesson(lessonWithTask(exchange({ attributes: { httpOnly: 1 } })), 'task "only": check.where.attributes.httpOnly: ', 'must be true (present) or false (absent)');
      badLesson(lessonWithTask(exchange({ attributes: { domain: 1 } })), 'task "only": check.where.attributes.domain: ', 'must be true, false or a value');
    });

    it('an exchange check with a bad storeCalls op, or a bad storeCalls key', () => {
      badLesson(lessonWithTask(exchange({ storeCalls: { includes: ['get', 'save'] } })), 'task "only": check.where.storeCalls.includes: ', '"save" is not one of: get, set, touch, destroy');
      badLesson(lessonWithTask(exchange({ storeCalls: { only: ['get'] } })), 'task "only": check.where.storeCalls: ', 'unknown key "only"', 'includes, excludes');
      // YAML's {toString: null} is an object String() cannot convert: still a message, not a TypeError.
      badLesson(lessonWithTask(exchange({ storeCalls: { includes: [{ toString: null }] } })), 'task "only": check.where.storeCalls.includes: ', 'a mapping is not one of');
      const holdsItself: unknown[] = [];
      holdsItself.push(holdsItself);
      badLesson(lessonWithTask(exchange({ storeCalls: { includes: holdsItself } })), 'task "only": check.where.storeCalls.includes: ', 'a list is not one of');
    });

    it('an exchange check with a bad requestCookie', () => {
      badLesson(lessonWithTask(exchange({ requestCookie: 'forged' })), 'task "only": check.where.requestCookie: ', 'must be one of: absent, valid, bad-signature, unsigned');
    });

    it('an exchange check with a bad setCookie, verifiedBy or sessionAfter', () => {
      badLesson(lessonWithTask(exchange({ setCookie: 'yes' })), 'task "only": check.where.setCookie: ', 'must be true or false');
      badLesson(lessonWithTask(exchange({ verifiedBy: -1 })), 'task "only": check.where.verifiedBy: ', 'must be a secret index');
      badLesson(lessonWithTask(exchange({ sessionAfter: { holds: ['x'] } })), 'task "only": check.where.sessionAfter: ', 'unknown key "holds"', 'exists, has, lacks');
      badLesson(lessonWithTask(exchange({ sessionAfter: { has: { n: 42 } } })), 'task "only": check.where.sessionAfter.has.n: ', 'must be a string');
    });

    it('an options check with an unknown cookie key', () => {
      badLesson(lessonWithTask({ check: { kind: 'options', description: 'a path', where: { cookie: { path: '/' } } } }), 'task "only": check.where.cookie: ', 'unknown key "path"', 'maxAge, secure, httpOnly, sameSite, domain');
    });

    it('an options check with an unknown option', () => {
      badLesson(lessonWithTask({ check: { kind: 'options', description: 'x', where: { secrets: 2 } } }), 'task "only": check.where: ', 'unknown key "secrets"', 'name, secretCount');
    });

    it('an options check with a bad { oneOf } form', () => {
      badLesson(lessonWithTask({ check: { kind: 'options', description: 'x', where: { cookie: { secure: { oneOf: true } } } } }), 'task "only": check.where.cookie.secure.oneOf: ', 'must be a list');
      badLesson(
        lessonWithTask({ check: { kind: 'options', description: 'x', where: { cookie: { maxAge: { atLeast: 1, atMost: 2 } } } } }),
        'task "only": check.where.cookie.maxAge: ',
        '{ atLeast: n }, { atMost: n }, { oneOf: [...] }, { not: value }',
      );
      badLesson(lessonWithTask({ check: { kind: 'options', description: 'x', where: { cookie: { maxAge: { between: [1, 2] } } } } }), 'task "only": check.where.cookie.maxAge: ', '{ oneOf: [...] }');
    });

    it('an exchange check whose options condition is bad', () => {
      badLesson(lessonWithTask(exchange({ options: { cookie: { colour: 'x' } } })), 'task "only": check.where.options.cookie: ', 'unknown key "colour"');
    });

    it('a probe check without cookieVisible, a race check without kept', () => {
      badLesson(lessonWithTask({ check: { kind: 'probe', description: 'x', cookieVisible: 'no' } }), 'task "only": check.cookieVisible: ', 'must be true or false');
      badLesson(lessonWithTask({ check: { kind: 'race', description: 'x', resave: true } }), 'task "only": check.kept: ', 'must be true or false');
    });

    it('a bad part inside an "all" check names its position', () => {
      const check = {
        kind: 'all',
        description: 'two things',
        checks: [
          { kind: 'probe', description: 'fine', cookieVisible: false },
          { kind: 'exchange', description: 'bad', where: { requestCookie: 'maybe' } },
        ],
      };
      badLesson(lessonWithTask({ check }), 'task "only": check.checks[1].where.requestCookie: ', 'must be one of');
    });

    it(
      'an options condition on name that is neither a name nor { not } is refused',
      () => {
        badLesson(lessonWithTask({ check: { kind: 'options', description: 'x', where: { name: { oneOf: ['a', 'b'] } } } }), 'task "only": check.where.name: ');
      },
    );
  });

  describe('the solution steps', () => {
    it('an unknown option', () => {
      badLesson(lessonWithTask({ solution: [{ option: 'cookie.path', value: '/' }] }), 'task "only": solution[0].option: ', 'unknown option', 'name, secret, cookie.maxAge');
    });

    it('an option value that is not a string, number, boolean or null', () => {
      badLesson(lessonWithTask({ solution: [{ option: 'secret', value: ['a', 'b'] }] }), 'task "only": solution[0].value: ', 'must be a string, number, boolean or null');
    });

    it('a bad request', () => {
      badLesson(lessonWithTask({ solution: [{ request: 'write' }, { request: 'refresh' }] }), 'task "only": solution[1].request: ', 'must be one of: visit, write, slow, regenerate, destroy, unset, restart');
    });

    it('ms out of range, or not a number', () => {
      badLesson(lessonWithTask({ solution: [{ request: 'slow', ms: 9000 }] }), 'task "only": solution[0].ms: ', 'up to 5000');
      badLesson(lessonWithTask({ solution: [{ request: 'slow', ms: -1 }] }), 'task "only": solution[0].ms: ', 'up to 5000');
      badLesson(lessonWithTask({ solution: [{ request: 'slow', ms: 'soon' }] }), 'task "only": solution[0].ms: ', 'up to 5000');
    });

    it('a key or value that is not a string', () => {
      badLesson(lessonWithTask({ solution: [{ request: 'write', key: 'n', value: 42 }] }), 'task "only": solution[0].value: ', 'must be a string');
    });

    it('a wait out of range', () => {
      badLesson(lessonWithTask({ solution: [{ wait: 60000 }] }), 'task "only": solution[0].wait: ', 'up to 10000');
    });

    it('an unknown step kind', () => {
      badLesson(lessonWithTask({ solution: [{ click: 'Write' }] }), 'task "only": solution[0]: ', 'a step is one of: option, request, probe, wait, together');
    });

    it('a bad step inside "together" names its position', () => {
      badLesson(lessonWithTask({ solution: [{ together: [{ request: 'slow', ms: 600 }, { request: 'jump' }] }] }), 'task "only": solution[0].together[1].request: ', 'must be one of');
    });
  });
});

describe('buildApp with a bad lessons folder', () => {
  it('throws at start-up (its default course is read by loadLessons), naming the file and the field', async () => {
    // A copy of the app beside a lessons/ folder of our own: buildApp reads <app>/../lessons.
    const copy = tempDir('cookie-lab-app-');
    cpSync(join(root, 'server'), join(copy, 'server'), { recursive: true });
    cpSync(join(root, 'views'), join(copy, 'views'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(join(copy, 'lessons'));
    writeFileSync(join(copy, 'lessons', '01-good.md'), source(lesson()));
    const { buildApp } = (await import(pathToFileURL(join(copy, 'server', 'app.ts')).href)) as { buildApp: typeof BuildApp };
    const databasePath = join(copy, 'lab.sqlite');
    const db = await openDatabase(databasePath);
    try {
      // The copy starts with a good course...
      assert.equal(typeof buildApp({ config: testConfig(databasePath), db }).app, 'function');
      // ...and refuses to with a bad one.
      writeFileSync(join(copy, 'lessons', '02-bad.md'), source(lessonWithTask({ check: { kind: 'exchange', description: 'x', where: { action: 'jump' } } })));
      assert.throws(
        () => buildApp({ config: testConfig(databasePath), db }),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.equal(err.constructor.name, 'LessonError');
          assert.match(err.message, /^lessons\/02-bad\.md: task "only": check\.where\.action: must be one of/);
          return true;
        },
      );
    } finally {
      await db.close();
    }
  });
});
