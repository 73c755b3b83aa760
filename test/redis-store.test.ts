// store: 'redis' (connect-redis over node-redis) against a real Redis started for this test: each
// sandbox's keys under a prefix of its own, the TTL connect-redis gives a key (from the cookie's
// expiry, else its one-day ttl) and what touch does to it, the inspector's view of the key, and
// the clean-up removing an abandoned sandbox's keys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { missingServer, startRedis, type RedisServer } from './support/servers.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, send } from './support/http.ts';
import { cleanUp } from '../server/db/cleanup.ts';
import type { Exchange } from '../server/sandbox/model.ts';

describe('sandboxes on Redis', { skip: missingServer('redis') }, () => {
  let redis: RedisServer;
  let lab: Lab;
  let client: ReturnType<typeof createClient>;
  const PREFIX = 'redis-store-test:';

  before(async () => {
    redis = await startRedis();
    lab = await startLab({ config: { redisUrl: redis.url, redisPrefix: PREFIX } });
    client = createClient({ url: redis.url });
    await client.connect();
  });
  after(async () => {
    await client.close();
    await lab.stop();
    await redis.remove();
  });

  const write = async (learner: CookieClient, id: string) => (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange;
  const visit = async (learner: CookieClient, id: string) => (await (await learner.request(`/sandbox/${id}/visit`)).json()) as Exchange;

  it("keeps each session under the lab's prefix and the sandbox's own, as JSON express-session reads back", async () => {
    const id = await createSandbox(lab.baseUrl, { store: 'redis' });
    const learner = new CookieClient(lab.baseUrl);
    const wrote = await write(learner, id);
    const key = `${PREFIX}sandbox:${id}:${wrote.sessionId}`;
    assert.equal(wrote.storeKey?.key, key, 'the inspector names the real key');
    const stored = JSON.parse((await client.get(key))!) as { user: string; cookie: { path: string } };
    assert.equal(stored.user, 'ada');
    assert.equal(stored.cookie.path, `/sandbox/${id}`);
    assert.equal(wrote.sessionAfter && (wrote.sessionAfter as unknown as { user: string }).user, 'ada', 'the inspector shows the session as Redis holds it');
  });

  it("never lets one sandbox read another's session, even with its session id", async () => {
    const [a, b] = [await createSandbox(lab.baseUrl, { store: 'redis' }), await createSandbox(lab.baseUrl, { store: 'redis' })];
    const learner = new CookieClient(lab.baseUrl);
    const wrote = await write(learner, a);
    // The very cookie of sandbox A, sent to sandbox B (same name, same secret).
    const other = await visit(learner, b);
    assert.equal(other.requestCookieAnatomy?.sessionId, wrote.sessionId);
    assert.equal(other.storeCalls.find((call) => call.op === 'get')?.found, false);
  });

  it("gives the key the cookie's lifetime when it has one, and connect-redis's day when it has none", async () => {
    const withMaxAge = await createSandbox(lab.baseUrl, { store: 'redis', cookie: { maxAge: 600_000 } });
    const ttl = (await write(new CookieClient(lab.baseUrl), withMaxAge)).storeKey!.ttlSeconds!;
    assert.ok(ttl > 590 && ttl <= 600, `TTL ${ttl} s for a 600 s cookie`);

    const browserSession = await createSandbox(lab.baseUrl, { store: 'redis', cookie: { maxAge: null } });
    const exchange = await write(new CookieClient(lab.baseUrl), browserSession);
    assert.ok(exchange.storeKey!.ttlSeconds! > 86_390 && exchange.storeKey!.ttlSeconds! <= 86_400, `TTL ${exchange.storeKey!.ttlSeconds} s`);
    assert.match(exchange.storeNote ?? '', /no maxAge \(a browser-session cookie\), so connect-redis used its own ttl option: 86400 s/);
  });

  it("a visit that touches the session moves the key's TTL forward again (EXPIRE), and the inspector says so", async () => {
    const id = await createSandbox(lab.baseUrl, { store: 'redis', cookie: { maxAge: 600_000 } });
    const learner = new CookieClient(lab.baseUrl);
    const key = (await write(learner, id)).storeKey!.key;
    await client.expire(key, 30);
    const touched = await visit(learner, id);
    assert.ok(touched.storeCalls.some((call) => call.op === 'touch' && call.ok));
    assert.ok(touched.storeKey!.ttlSeconds! > 500, `TTL after the touch: ${touched.storeKey!.ttlSeconds} s`);
    assert.match(touched.storeNote ?? '', /This request touched the session: connect-redis ran EXPIRE/);
    const page = await send(lab.baseUrl, `/sandbox/${id}`, { headers: { accept: 'text/html' } });
    assert.match(page.text, new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), "the sandbox page shows Redis's key");
  });

  it('the clean-up deletes an abandoned sandbox and every key it had in Redis, and nothing of the others', async () => {
    const abandoned = await createSandbox(lab.baseUrl, { store: 'redis' });
    for (let i = 0; i < 3; i++) await write(new CookieClient(lab.baseUrl), abandoned);
    const keys = async (id: string) => (await client.keys(`${PREFIX}sandbox:${id}:*`)).length;
    assert.equal(await keys(abandoned), 3);
    const kept = await createSandbox(lab.baseUrl, { store: 'redis' });
    await write(new CookieClient(lab.baseUrl), kept);
    // Only the abandoned one is old: mark it unused for long.
    await lab.db.run('UPDATE sandboxes SET last_used_at = 0, created_at = 0 WHERE id = ?', [abandoned]);
    const report = await cleanUp(lab.db, lab.registry, lab.progress, { everyMs: 60_000, abandonedAfterMs: 60_000 });
    assert.ok(report.abandonedSandboxes >= 1);
    assert.equal(await keys(abandoned), 0);
    assert.equal(await keys(kept), 1);
  });
});
