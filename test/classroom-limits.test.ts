// The classroom's rate limits over real HTTP: joins per address and per class, unknown join codes
// and teacher links per address, teacher and dashboard requests per address and per class, new
// classes per address. Each answers 429 with a message that says what to do, and only what it
// counts is refused (another class, or the same class from elsewhere, is unaffected).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, assertRejected } from './support/http.ts';
import { FIRST_LESSON, browse, createClass, join } from './support/classroom.ts';
import type { Limits } from '../server/http/rate-limits.ts';

const labs: Lab[] = [];
after(() => Promise.all(labs.map((lab) => lab.stop())));

async function labWith(limits: Partial<Limits>): Promise<Lab> {
  const lab = await startLab({ limits });
  labs.push(lab);
  return lab;
}

function assertLimited(answer: Awaited<ReturnType<typeof browse>>, reason: RegExp, context: string) {
  assert.equal(answer.status, 429, `${context}: ${answer.status}`);
  assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, `${context}: Retry-After says when to try again`);
  assert.match(assertRejected(answer, context), reason);
}

describe('classroom rate limits', () => {
  it('limits join attempts per address', async () => {
    const lab = await labWith({ joinsPerMinute: 3 });
    const cls = await createClass(lab.baseUrl, 'Joins', [FIRST_LESSON]);
    for (let i = 0; i < 3; i++) assert.equal((await join(new CookieClient(lab.baseUrl), cls.code, `S${i}`)).status, 303);
    assertLimited(await join(new CookieClient(lab.baseUrl), cls.code, 'S4'), /too many join attempts from this address/, 'the fourth join');
    assert.equal((await lab.db.get<{ n: number }>('SELECT count(*) AS n FROM class_students'))?.n, 3);
  });

  it('limits joins per class, leaving other classes open', async () => {
    const lab = await labWith({ joinsPerClassPerMinute: 2 });
    const busy = await createClass(lab.baseUrl, 'Busy', [FIRST_LESSON]);
    const quiet = await createClass(lab.baseUrl, 'Quiet', [FIRST_LESSON]);
    for (let i = 0; i < 2; i++) assert.equal((await join(new CookieClient(lab.baseUrl), busy.code, `S${i}`)).status, 303);
    assertLimited(await join(new CookieClient(lab.baseUrl), busy.code, 'S3'), /too many students are joining this class/, 'the third join to one class');
    assert.equal((await join(new CookieClient(lab.baseUrl), quiet.code, 'Q')).status, 303);
  });

  it('limits join codes that name no class, per address', async () => {
    const lab = await labWith({ unknownCodesPerMinute: 2 });
    for (let i = 0; i < 2; i++) assert.equal((await join(new CookieClient(lab.baseUrl), 'ACDEF' + 'GHJ'[i], 'Ada')).status, 404);
    assertLimited(await join(new CookieClient(lab.baseUrl), 'ACDEFK', 'Ada'), /too many join codes that name no class/, 'the third unknown code');
  });

  it('limits teacher links that open no class, per address', async () => {
    const lab = await labWith({ unknownTokensPerMinute: 2 });
    const stranger = new CookieClient(lab.baseUrl);
    for (let i = 0; i < 2; i++) assert.equal((await browse(stranger, `/teach/${String(i).repeat(43)}`)).status, 404);
    assertLimited(await browse(stranger, `/teach/${'9'.repeat(43)}`), /too many unknown teacher links/, 'the third unknown token');
  });

  it('limits teacher and dashboard requests per address', async () => {
    const lab = await labWith({ teacherRequestsPerMinute: 3 });
    const cls = await createClass(lab.baseUrl, 'Teacher', [FIRST_LESSON]);
    // createClass opened the page once.
    for (let i = 0; i < 2; i++) assert.equal((await browse(cls.teacher, cls.base)).status, 200);
    assertLimited(await browse(cls.teacher, cls.base), /too many requests to teachers' pages from this address/, 'the fourth teacher request');
  });

  it('limits teacher and dashboard requests per class, leaving other classes served', async () => {
    const lab = await labWith({ classRequestsPerMinute: 3 });
    const busy = await createClass(lab.baseUrl, 'Busy', [FIRST_LESSON]);
    const quiet = await createClass(lab.baseUrl, 'Quiet', [FIRST_LESSON]);
    for (let i = 0; i < 2; i++) assert.equal((await browse(busy.teacher, `${busy.base}/results.json`)).status, 200);
    assertLimited(await browse(busy.teacher, busy.base), /this class has had too many teacher and dashboard requests/, 'the fourth request to one class');
    assert.equal((await browse(quiet.teacher, quiet.base)).status, 200);
  });

  it('limits new classes per address', async () => {
    const lab = await labWith({ classesPerMinute: 1 });
    await createClass(lab.baseUrl, 'One', [FIRST_LESSON]);
    const second = await browse(new CookieClient(lab.baseUrl), '/teach', { form: { title: 'Two', lessons: [FIRST_LESSON] } });
    assertLimited(second, /too many new classes from this address/, 'the second class');
  });
});
