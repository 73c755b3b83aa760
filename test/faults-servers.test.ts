// PostgreSQL, then Redis, stop in the middle of a class and come back. Learners get clear answers
// (a 503 that says to try again while the lab's database is down; express-session's real
// behaviour with a failing store, in the inspector, for a sandbox on Redis), /healthz names the
// dependency that is down, no acknowledged write is lost, and the same app recovers without a
// restart. Real servers from Debian's packages, started for this test alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingServer, startPostgres, startRedis, type PostgresServer, type RedisServer } from './support/servers.ts';
import { freshSchema } from './support/database.ts';
import { startLabOn, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, send } from './support/http.ts';
import { watchConsoleErrors, watchUncaught, type ErrorLog } from './support/watch.ts';
import type { Health } from '../server/http/health.ts';

interface Exchange {
  setCookie: string[];
  sessionAfter: Record<string, unknown> | null;
  storeCalls: { op: string; ok: boolean | null; error?: string }[];
  error: string | null;
  storeKey?: { key: string } | null;
}

/** Asks until the answer is what the test waits for: the servers' own start-up is the event, seen through /healthz. */
async function until<T>(ask: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await ask();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const health = async (lab: Lab) => send<Health>(lab.baseUrl, '/healthz');

// The timeout only bounds a hang (until() has none of its own): a broken recovery fails, not stalls CI.
describe('PostgreSQL and Redis stop mid-class and come back', { skip: missingServer('postgres') || missingServer('redis'), timeout: 180_000 }, () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let lab: Lab;
  /** A lab whose own sessions live in Redis (SITE_SESSION_STORE=redis). */
  let sessionsOnRedis: Lab;
  let log: ErrorLog;
  const uncaught = watchUncaught();

  before(async () => {
    [postgres, redis] = await Promise.all([startPostgres({ durable: true }), startRedis({ durable: true })]);
    lab = await startLabOn(await freshSchema(postgres.url), { config: { redisUrl: redis.url, siteSessionStore: 'database' } });
    sessionsOnRedis = await startLabOn(await freshSchema(postgres.url), { config: { redisUrl: redis.url, siteSessionStore: 'redis' } });
    log = watchConsoleErrors({ quiet: true });
    uncaught.start();
  });

  after(async () => {
    uncaught.stop();
    log.restore();
    await Promise.all([lab.stop().catch(() => {}), sessionsOnRedis.stop().catch(() => {})]);
    await Promise.all([postgres.remove(), redis.remove()]);
  });

  it('while PostgreSQL is down: 503s that say to try again, /healthz says which; once back, every acknowledged write is there', async () => {
    const id = await createSandbox(lab.baseUrl, { store: 'database' });
    const learner = new CookieClient(lab.baseUrl);
    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: `k${i}`, value: `v${i}` } });
      assert.equal(res.status, 200);
      const exchange = (await res.json()) as Exchange;
      assert.equal(exchange.error, null);
      acknowledged.push(`k${i}`);
    }

    // Learners keep writing through the outage: whatever was acknowledged (200) must be there after.
    const writers = await Promise.all(Array.from({ length: 4 }, async () => ({ id: await createSandbox(lab.baseUrl, { store: 'database' }), client: new CookieClient(lab.baseUrl), acknowledged: [] as string[], refused: 0 })));
    let outageOver = false;
    const writing = Promise.all(
      writers.map(async (writer) => {
        for (let i = 0; !outageOver; i++) {
          const res = await writer.client.request(`/sandbox/${writer.id}/write`, { method: 'POST', json: { key: `w${i}`, value: String(i) } });
          const exchange = (await res.json()) as Exchange;
          // Acknowledged: the store said it saved. (A save that fails after the headers went out
          // still answers 200, as express-session does; its exchange shows the failed set.)
          if (res.status === 200 && exchange.storeCalls.some((call) => call.op === 'set' && call.ok === true)) writer.acknowledged.push(`w${i}`);
          else if (res.status === 200) {
            assert.ok(exchange.storeCalls.some((call) => call.op === 'set' && call.ok === false), JSON.stringify(exchange.storeCalls));
            writer.refused++;
          } else {
            assert.equal(res.status, 503, 'refused with a 503, never a 500');
            writer.refused++;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );

    await postgres.kill();
    const down = await until(() => health(lab), (res) => res.status === 503);
    assert.equal(down.json.status, 'down');
    assert.equal(down.json.database.ok, false);
    assert.equal(down.json.redis !== 'not configured' && down.json.redis.ok, true, 'Redis is still up');

    for (const [path, accept] of [
      [`/sandbox/${id}/visit`, 'application/json'],
      [`/lessons/what-a-session-cookie-is`, 'text/html'],
      [`/api/sandboxes/${id}/options`, 'application/json'],
    ] as const) {
      const res = await send(lab.baseUrl, path, { headers: { accept, cookie: learner.cookieHeader() ?? '' } });
      assert.equal(res.status, 503, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.match(res.text, /database is not answering right now/);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.doesNotMatch(res.text, /\bat .*\.ts:\d+/, 'no stack trace');
      assert.doesNotMatch(res.text, /ECONNREFUSED|127\.0\.0\.1:\d+/, "the server's address stays in the log");
    }

    await postgres.start();
    await until(() => health(lab), (res) => res.status === 200);
    // One more acknowledged write each after the outage, then stop writing.
    await until(async () => writers.every((writer) => writer.refused > 0 && writer.acknowledged.length > 0), Boolean);
    outageOver = true;
    await writing;
    for (const writer of writers) {
      const session = ((await (await writer.client.request(`/sandbox/${writer.id}/visit`)).json()) as Exchange).sessionAfter ?? {};
      for (const key of writer.acknowledged) assert.ok(key in session, `${key} was acknowledged, so it is stored (refused during the outage: ${writer.refused})`);
    }
    const res = await learner.request(`/sandbox/${id}/visit`);
    assert.equal(res.status, 200);
    const exchange = (await res.json()) as Exchange;
    assert.equal(exchange.error, null);
    for (const key of acknowledged) assert.ok(exchange.sessionAfter && key in exchange.sessionAfter, `${key} survived the outage`);
    const history = await send<{ exchanges: { number: number }[] }>(lab.baseUrl, `/api/sandboxes/${id}/exchanges`);
    assert.equal(history.status, 200);
    assert.equal(history.json.exchanges.length, acknowledged.length + 1, 'every recorded exchange is in the history');
  });

  it("while Redis is down: /healthz says degraded, a Redis sandbox shows express-session's store error, others work; once back, its sessions are there", async () => {
    const onRedis = await createSandbox(lab.baseUrl, { store: 'redis' });
    const onDatabase = await createSandbox(lab.baseUrl, { store: 'database' });
    const learner = new CookieClient(lab.baseUrl);
    const wrote = (await (await learner.request(`/sandbox/${onRedis}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange;
    assert.equal(wrote.error, null);
    assert.match(wrote.storeKey?.key ?? '', /./, 'the inspector names the Redis key');

    // A learner of the lab whose own sessions are in Redis, with a session stored before the outage.
    const returning = new CookieClient(sessionsOnRedis.baseUrl);
    const before = await returning.request('/lessons/what-a-session-cookie-is', { headers: { accept: 'text/html' } });
    const sandboxPath = /data-sandbox-path="([^"]+)"/.exec(await before.text())?.[1];
    assert.ok(sandboxPath && returning.jar.has('cookielab.sid'));

    await redis.kill();
    const degraded = await until(() => health(lab), (res) => res.json.status === 'degraded');
    assert.equal(degraded.status, 200, 'Redis down is not a reason to take this instance out of the load balancer');
    assert.equal(degraded.json.redis !== 'not configured' && degraded.json.redis.ok, false);
    assert.doesNotMatch(degraded.text, /ECONNREFUSED|127\.0\.0\.1/, "Redis's address stays in the log");
    // Where the lab's own sessions live in Redis, no lesson can be served: down, and a 503 that says to try again.
    const down = await health(sessionsOnRedis);
    assert.equal(down.status, 503);
    assert.equal(down.json.status, 'down');
    const lessonPage = await returning.request('/lessons/what-a-session-cookie-is', { headers: { accept: 'text/html' } });
    const lessonText = await lessonPage.text();
    assert.equal(lessonPage.status, 503, lessonText.slice(0, 300));
    assert.match(lessonText, /session store \(Redis\) is not answering right now/);

    const failed = await learner.request(`/sandbox/${onRedis}/visit`);
    assert.equal(failed.status, 503, 'a store that fails to load the session: 503, with the exchange as the answer');
    const failedExchange = (await failed.json()) as Exchange;
    assert.ok(failedExchange.storeCalls.some((call) => call.op === 'get' && call.ok === false), JSON.stringify(failedExchange.storeCalls));
    assert.match(failedExchange.error ?? '', /./, 'express-session passed the store error on');

    const other = new CookieClient(lab.baseUrl);
    const fine = (await (await other.request(`/sandbox/${onDatabase}/write`, { method: 'POST', json: { key: 'a', value: 'b' } })).json()) as Exchange;
    assert.equal(fine.error, null, 'a sandbox on the database does not need Redis');

    await redis.start();
    await until(() => health(lab), (res) => res.json.status === 'ok');
    await until(() => health(sessionsOnRedis), (res) => res.status === 200);
    const again = await returning.request('/lessons/what-a-session-cookie-is', { headers: { accept: 'text/html' } });
    assert.equal(again.status, 200);
    assert.equal(/data-sandbox-path="([^"]+)"/.exec(await again.text())?.[1], sandboxPath, 'the same learner, with the same lesson sandbox');
    const back = (await (await learner.request(`/sandbox/${onRedis}/visit`)).json()) as Exchange;
    assert.equal(back.error, null);
    assert.equal(back.sessionAfter?.user, 'ada', 'the acknowledged write survived (Redis with appendfsync always)');
  });

  it('the process never crashed, and no request failed with a 500', () => {
    assert.deepEqual(uncaught.errors, []);
    assert.deepEqual(log.serverFailures(), [], 'an outage is a 503 or a store error, never a 500');
  });
});
