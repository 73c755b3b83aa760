// A task that needs Redis or several instances is offered only by a lab that has them: shown,
// counted and replayed there, and nowhere else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { courseFor, labFeatures, NO_FEATURES } from '../server/lessons/features.ts';
import { course } from './support/watch.ts';
import { startLab, testRedisUrl, type Lab } from './support/lab.ts';
import { CookieClient } from './support/http.ts';

const SLUG = 'stores-and-restarts';
const needing = (requirement: string) => course().flatMap((lesson) => lesson.tasks.filter((task) => (task.requires as string[]).includes(requirement)).map((task) => task.id));

describe('tasks that need more than one process', () => {
  it('lesson 8 has one needing Redis and one needing several instances, and no other lesson has any', () => {
    assert.deepEqual(needing('redis'), ['redis-ttl']);
    assert.deepEqual(needing('instances'), ['memory-across-instances']);
  });

  it('courseFor leaves out exactly the tasks a lab cannot offer, and keeps lessons without such tasks as they are', () => {
    const lessons = course();
    const lesson8 = (features: Parameters<typeof courseFor>[1]) => courseFor(lessons, features).find((l) => l.slug === SLUG)!.tasks.map((t) => t.id);
    assert.deepEqual(lesson8(NO_FEATURES), ['memory-forgets', 'sqlite-remembers']);
    assert.deepEqual(lesson8(labFeatures({ redis: true, instanceCount: 1 })), ['memory-forgets', 'sqlite-remembers', 'redis-ttl']);
    assert.deepEqual(lesson8(labFeatures({ redis: false, instanceCount: 2 })), ['memory-forgets', 'sqlite-remembers', 'memory-across-instances']);
    const other = lessons.find((l) => l.slug !== SLUG)!;
    assert.equal(courseFor(lessons, NO_FEATURES).find((l) => l.slug === other.slug), other);
  });
});

describe('a lab of one instance', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(() => lab.stop());

  it(`shows and counts lesson 8's tasks it can offer (${testRedisUrl ? 'with' : 'without'} Redis), and never the instances task`, async () => {
    const learner = new CookieClient(lab.baseUrl);
    const page = await (await learner.request(`/lessons/${SLUG}`, { headers: { accept: 'text/html' } })).text();
    assert.equal(/id="task-redis-ttl"/.test(page), Boolean(testRedisUrl));
    assert.doesNotMatch(page, /id="task-memory-across-instances"/);
    const list = await (await learner.request('/lessons', { headers: { accept: 'text/html' } })).text();
    const count = new RegExp(`href="/lessons/${SLUG}">[^<]*</a>[^<0-9]*(?:<span[^>]*>)?(\\d+ of \\d+) tasks solved`).exec(list)?.[1];
    assert.equal(count, `0 of ${testRedisUrl ? 3 : 2}`);
  });

  it("imports a progress file from a lab that offers more (a task this lab does not offer is kept, not refused)", async () => {
    const learner = new CookieClient(lab.baseUrl);
    await learner.request('/lessons', { headers: { accept: 'text/html' } }); // the learner's site session
    const file = JSON.stringify({ format: 'cookie-lab-progress', version: 1, lessons: { [SLUG]: { solved: ['memory-forgets', 'memory-across-instances'], hints: {} } } });
    const res = await learner.request('/progress/import', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ progress: file }).toString() });
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.match(html, /Imported: 2 solved task\(s\)/);
    const exported = (await (await learner.request('/progress/export')).json()) as { lessons: Record<string, { solved: string[] }> };
    assert.deepEqual(exported.lessons[SLUG]?.solved, ['memory-across-instances', 'memory-forgets'], 'kept, for a lab that offers it');
    const list = await (await learner.request('/lessons', { headers: { accept: 'text/html' } })).text();
    const count = new RegExp(`href="/lessons/${SLUG}">[^<]*</a>[^<0-9]*(?:<span[^>]*>)?(\\d+ of \\d+) tasks solved`).exec(list)?.[1];
    assert.equal(count, `1 of ${testRedisUrl ? 3 : 2}`, 'counted among the tasks this lab offers only');
  });
});
