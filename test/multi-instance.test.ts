// Three instances of the lab on one PostgreSQL and one Redis (real servers, started for this
// test), and learners whose every request goes to the next instance, as a load balancer without
// sticky sessions would send them: sandboxes, sessions on Redis and on the database, option
// changes, lesson checks and the site's own sessions (on Redis) all work; the memory store loses
// its sessions, and the inspector says why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingServer, startPostgres, startRedis, type PostgresServer, type RedisServer } from './support/servers.ts';
import { startServer, type ServerProcess } from './support/process.ts';
import { CookieClient, createSandbox, putOptions, readExchanges, send } from './support/http.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { browse, createClass, FIRST_LESSON, htmx, join, SECOND_LESSON, teacherPost } from './support/classroom.ts';

/** One browser behind a round-robin load balancer: each request goes to the next instance. */
class AlternatingClient extends CookieClient {
  private next = 0;

  constructor(private readonly instances: readonly string[]) {
    super(instances[0]!);
  }

  protected override nextBaseUrl(): string {
    return this.instances[this.next++ % this.instances.length]!;
  }
}

/** Asks until the answer is the one awaited: a notification between processes has no event a test can hold. */
async function until<T>(ask: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await ask();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const HTML = { accept: 'text/html' };

// The timeout only bounds a hang (until() has none of its own).
describe('three instances on one PostgreSQL and one Redis, a client alternating between them', { skip: missingServer('postgres') || missingServer('redis'), timeout: 240_000 }, () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let instances: ServerProcess[] = [];
  let urls: string[] = [];
  const names = ['north', 'south', 'east'];

  before(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, SITE_SESSION_STORE: 'redis', INSTANCE_COUNT: '3', SESSION_SECRET: 'multi-instance-test-secret-0123456789abcdef' };
    // Started together, as an orchestrator would: they race to migrate the schema (an advisory lock settles it).
    instances = await Promise.all(names.map((name) => startServer({ ...env, INSTANCE_NAME: name })));
    urls = instances.map((instance) => instance.baseUrl);
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop('SIGTERM')));
    await Promise.all([postgres?.remove(), redis?.remove()]);
  });

  for (const store of ['redis', 'database'] as const) {
    it(`a session on ${store} follows the learner from instance to instance`, async () => {
      const id = await createSandbox(urls[0]!, { store });
      const learner = new AlternatingClient(urls);
      const answered = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const res = await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: `k${i}`, value: String(i) } });
        assert.equal(res.status, 200);
        const exchange = (await res.json()) as Exchange;
        assert.equal(exchange.error, null);
        answered.add(exchange.instance);
        const session = exchange.sessionAfter as Record<string, unknown> | null;
        for (let k = 0; k <= i; k++) assert.equal(session?.[`k${k}`], String(k), `write ${i} (instance ${exchange.instance}) sees k${k}`);
      }
      assert.deepEqual([...answered].sort(), [...names].sort(), 'every instance answered');
      // The history is the sandbox's, whichever instance recorded each exchange and whichever is asked.
      for (const url of urls) assert.deepEqual((await readExchanges(url, id)).map((e) => e.number), [1, 2, 3, 4, 5, 6]);
    });
  }

  it('a memory-store session is lost when another instance answers, and the inspector says why', async () => {
    const id = await createSandbox(urls[0]!, { store: 'memory' });
    const learner = new AlternatingClient(urls);
    const wrote = (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange;
    assert.equal(wrote.instance, 'north');
    assert.equal(wrote.setCookie.length, 1);
    const visited = (await (await learner.request(`/sandbox/${id}/visit`)).json()) as Exchange;
    assert.equal(visited.instance, 'south');
    assert.equal(visited.storeCalls.find((call) => call.op === 'get')?.found, false, "south's MemoryStore never held the session");
    assert.equal(visited.sessionBefore, null);
    assert.match(visited.storeNote ?? '', /instance north stored session .* but instance south answered this request/);
    // And the page says it, in the inspector the learner reads.
    const page = await send(urls[2]!, `/sandbox/${id}`, { headers: HTML });
    assert.match(page.text, /a MemoryStore lives in the memory of one process/);
  });

  it('an option change through one instance reaches the others', async () => {
    const id = await createSandbox(urls[0]!, { store: 'database' });
    // Every instance builds its middleware for the sandbox first.
    for (const url of urls) assert.equal((await new CookieClient(url).request(`/sandbox/${id}/visit`)).status, 200);
    assert.equal((await putOptions(urls[0]!, id, { name: 'renamed' })).status, 200);
    for (const url of urls.slice(1)) {
      const learner = new CookieClient(url);
      const exchange = await until(
        async () => (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'k', value: 'v' } })).json()) as Exchange,
        (e) => e.setCookie.some((header) => header.startsWith('renamed=')),
      );
      assert.equal(exchange.options.name, 'renamed');
    }
  });

  it("a lesson task is checked against exchanges recorded by other instances, and the learner's progress is everywhere", async () => {
    const learner = new AlternatingClient(urls);
    const page = await learner.request('/lessons/what-a-session-cookie-is', { headers: HTML }); // north
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 300));
    const id = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(html)?.[1];
    assert.ok(id);
    assert.equal((await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).status, 200); // south
    const tasks = await (await learner.request('/lessons/what-a-session-cookie-is/tasks', { headers: HTML })).text(); // east
    assert.match(tasks, /<li class="task solved" id="task-get-a-cookie"/);
    for (let i = 0; i < urls.length; i++) {
      const exported = (await (await learner.request('/progress/export')).json()) as { lessons: Record<string, { solved: string[] }> };
      assert.ok(exported.lessons['what-a-session-cookie-is']?.solved.includes('get-a-cookie'), 'the solve is seen from every instance');
    }
  });

  it("lesson 8's tasks on Redis and on several instances are offered, stay open the wrong way, and are solved the right way", async () => {
    const slug = 'stores-and-restarts';
    /** A learner of lesson 8, with the lesson's sandbox, each request to the next instance. */
    const openLesson = async () => {
      const learner = new AlternatingClient(urls);
      const html = await (await learner.request(`/lessons/${slug}`, { headers: HTML })).text();
      const id = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(html)?.[1];
      assert.ok(id, html.slice(0, 300));
      assert.match(html, /id="task-redis-ttl"/, 'a lab with Redis offers the Redis task');
      assert.match(html, /id="task-memory-across-instances"/, 'a lab of three instances offers the instances task');
      return { learner, id };
    };
    const solved = async (learner: CookieClient, task: string) => new RegExp(`<li class="task solved" id="task-${task}"`).test(await (await learner.request(`/lessons/${slug}/tasks`, { headers: HTML })).text());
    /** A write, repeated until the instance that answers has heard of the latest option change (a notification away). */
    const write = (learner: CookieClient, id: string, arrived: (options: Exchange['options']) => boolean = () => true) =>
      until(async () => (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange, (e) => arrived(e.options));

    // Redis: with maxAge set, the key's TTL follows the cookie (the wrong way); without, connect-redis's day.
    const onRedis = await openLesson();
    assert.equal((await putOptions(urls[1]!, onRedis.id, { store: 'redis' })).status, 200);
    const withMaxAge = await write(onRedis.learner, onRedis.id, (options) => options.store === 'redis');
    assert.ok(withMaxAge.storeKey && withMaxAge.storeKey.ttlSeconds! <= 3600, JSON.stringify(withMaxAge.storeKey));
    assert.equal(await solved(onRedis.learner, 'redis-ttl'), false, 'a TTL from the cookie does not solve it');
    assert.equal((await putOptions(urls[2]!, onRedis.id, { store: 'redis', cookie: { maxAge: null } })).status, 200);
    // A fresh browser: the old cookie's session carries its expiry along.
    const fresh = new AlternatingClient(urls);
    for (const [name, value] of onRedis.learner.jar) if (name !== 'mycookie') fresh.jar.set(name, value);
    const withoutMaxAge = await write(fresh, onRedis.id, (options) => options.cookie.maxAge === null);
    assert.ok(withoutMaxAge.storeKey!.ttlSeconds! > 86_000, JSON.stringify(withoutMaxAge.storeKey));
    assert.match(withoutMaxAge.storeNote ?? '', /connect-redis used its own ttl option: 86400 s/);
    assert.equal(await solved(fresh, 'redis-ttl'), true);

    // Several instances: the write alone does not solve it; a visit that another instance answers does.
    const onMemory = await openLesson();
    const wrote = await write(onMemory.learner, onMemory.id);
    assert.equal(wrote.options.store, 'memory');
    assert.equal(await solved(onMemory.learner, 'memory-across-instances'), false);
    const visited = (await (await onMemory.learner.request(`/sandbox/${onMemory.id}/visit`)).json()) as Exchange;
    assert.notEqual(visited.instance, wrote.instance);
    assert.equal(await solved(onMemory.learner, 'memory-across-instances'), true);
  });

  it("a class: the teacher and students each alternate between instances; joins, a solve, the teacher's page and a send all cross them", async () => {
    const created = await createClass(urls[0]!, 'Across instances', [FIRST_LESSON, SECOND_LESSON]);
    const teacher = new AlternatingClient(urls);
    for (const [name, value] of created.teacher.jar) teacher.jar.set(name, value);
    const cls = { ...created, teacher };
    const students = new Map<string, AlternatingClient>();
    for (const name of ['Ada', 'Bob', 'Cy']) {
      const student = new AlternatingClient(urls);
      assert.equal((await join(student, cls.code, name)).status, 303, `${name} joins`);
      students.set(name, student);
    }
    // Ada solves the first task: her lesson page, her write and the check each on another instance.
    const ada = students.get('Ada')!;
    const lesson = await browse(ada, `/lessons/${FIRST_LESSON}`);
    const id = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(lesson.text)![1]!;
    assert.equal((await ada.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).status, 200);
    assert.match((await browse(ada, `/lessons/${FIRST_LESSON}/tasks`)).text, /<li class="task solved" id="task-get-a-cookie"/);
    // Every instance's teacher page has the three students, and Ada's solve in the results.
    for (let i = 0; i < urls.length; i++) {
      const page = await browse(teacher, cls.base);
      for (const name of students.keys()) assert.match(page.text, new RegExp(`<th scope="row">${name}</th>`));
    }
    // The dashboard, through each instance, counts Ada's solve among the three students.
    for (let i = 0; i < urls.length; i++) {
      const dashboard = await browse(teacher, `${cls.base}/dashboard?lesson=${FIRST_LESSON}`);
      assert.equal(dashboard.status, 200);
      assert.match(dashboard.text, /T1 [^<]*<\/strong>: 1 of 3 solved/);
    }
    const results = await browse(teacher, `${cls.base}/results.json`);
    assert.ok(JSON.stringify(results.json).includes('get-a-cookie'), results.text.slice(0, 300));
    // Bob works at his own pace; the teacher sends the class on; the others' polls (any instance) move them.
    assert.equal((await htmx(students.get('Bob')!, '/class/following', { method: 'POST', form: { following: 'off' } })).status, 200);
    assert.equal((await teacherPost(cls, 'send', { where: SECOND_LESSON })).status, 303);
    for (const name of ['Ada', 'Cy']) {
      const moved = await until(() => htmx(students.get(name)!, '/class/bar'), (bar) => bar.headers.get('hx-redirect') !== null);
      assert.equal(moved.headers.get('hx-redirect'), `/lessons/${SECOND_LESSON}?followed=1`, name);
    }
    for (let i = 0; i < urls.length; i++) assert.equal((await htmx(students.get('Bob')!, '/class/bar')).headers.get('hx-redirect'), null, 'Bob stays put, whichever instance he polls');
  });

  it('/healthz on each instance names its engines', async () => {
    for (const url of urls) {
      const health = await send<{ status: string; database: { engine: string } }>(url, '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.json.status, 'ok');
      assert.equal(health.json.database.engine, 'postgres');
    }
  });
});
