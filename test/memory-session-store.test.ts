// LabMemoryStore is express-session's MemoryStore with its sessions held by the sandbox: every call
// must answer as a plain MemoryStore does, and the sandbox's object must stay the one in use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import session, { type SessionData } from 'express-session';
import { LabMemoryStore, emptyMemorySessions } from '../server/stores/memory-session-store.ts';

const call = <T>(fn: (callback: (err?: unknown, result?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));

/** One moment for both stores' scripts, so their sessions are alike to the millisecond. */
const NOW = Date.now();

function sessionData(values: Record<string, unknown>, expiresInMs: number | null = 60_000): SessionData {
  return { cookie: { originalMaxAge: expiresInMs, expires: expiresInMs === null ? null : new Date(NOW + expiresInMs).toISOString(), httpOnly: true, path: '/' }, ...values } as unknown as SessionData;
}

/** The same calls on a store; what each answered. */
async function script(store: session.Store) {
  const seen: unknown[] = [];
  await call((cb) => store.set('a', sessionData({ n: 1 }), cb));
  await call((cb) => store.set('b', sessionData({ n: 2 }), cb));
  await call((cb) => store.set('old', sessionData({ n: 3 }, -1000), cb));
  seen.push(await call((cb) => store.get('a', cb)));
  seen.push(await call((cb) => store.get('old', cb)), await call((cb) => store.get('missing', cb)));
  await call((cb) => store.touch!('b', sessionData({ n: 2 }, 120_000), cb));
  seen.push(await call((cb) => store.length!(cb)));
  seen.push(await call((cb) => store.all!(cb)));
  await call((cb) => store.destroy('a', cb));
  seen.push(await call((cb) => store.get('a', cb)), await call((cb) => store.length!(cb)));
  return JSON.parse(JSON.stringify(seen)) as unknown;
}

describe('LabMemoryStore', () => {
  it('answers every call as express-session\'s MemoryStore does', async () => {
    assert.deepEqual(await script(new LabMemoryStore(emptyMemorySessions())), await script(new session.MemoryStore()));
  });

  it('keeps its sessions in the object the sandbox holds, and clear() empties that object', async () => {
    const sessions = emptyMemorySessions();
    const store = new LabMemoryStore(sessions);
    await call((cb) => store.set('s', sessionData({ user: 'ada' }), cb));
    assert.equal((JSON.parse(sessions.s!) as { user: string }).user, 'ada');
    assert.equal(((await store.peek('s')) as unknown as { user: string }).user, 'ada');
    await call((cb) => store.clear!(cb));
    assert.deepEqual(Object.keys(sessions), []);
    assert.equal(await store.peek('s'), null);
    await call((cb) => store.set('t', sessionData({}), cb));
    assert.deepEqual(Object.keys(sessions), ['t'], 'still the same object after clear()');
  });
});
