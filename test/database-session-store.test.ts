// DatabaseSessionStore on its own, over a real database (SQLite, or PostgreSQL in that run): the express-session Store contract
// (get, set, touch, destroy, all, length, clear), namespaces, and expiry.
// Long because it covers the whole Store contract, plus the read cache and touchAfterMs that only
// the site's own session uses.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import type { SessionData } from 'express-session';
import type { Database } from '../server/db/database.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { DatabaseSessionStore, expiresAt } from '../server/stores/database-session-store.ts';
import { withHandClock } from './support/clock.ts';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Promise forms of the store's callback methods. */
function api(store: DatabaseSessionStore) {
  return {
    get: promisify(store.get.bind(store)) as (sid: string) => Promise<SessionData | null | undefined>,
    set: promisify(store.set.bind(store)) as (sid: string, sess: SessionData) => Promise<void>,
    touch: promisify(store.touch.bind(store)) as (sid: string, sess: SessionData) => Promise<void>,
    destroy: promisify(store.destroy.bind(store)) as (sid: string) => Promise<void>,
    all: promisify(store.all.bind(store)) as () => Promise<Record<string, SessionData>>,
    length: promisify(store.length.bind(store)) as () => Promise<number>,
    clear: promisify(store.clear.bind(store)) as () => Promise<void>,
  };
}

/** A session as express-session hands it to a store (a cookie, plus data), expiring `inMs` from now. */
function sessionData(data: Record<string, unknown>, inMs: number | null = HOUR): SessionData {
  return {
    cookie: {
      originalMaxAge: inMs,
      expires: inMs === null ? null : new Date(Date.now() + inMs).toISOString(),
      httpOnly: true,
      path: '/sandbox/x',
    },
    ...data,
  } as unknown as SessionData;
}

let database: TestDatabase;
let db: Database;
before(async () => {
  database = await freshDatabase('store');
  db = await database.open();
});
after(async () => {
  await db.close();
  await database.drop();
});
beforeEach(async () => {
  await db.run('DELETE FROM sessions');
});

async function storedRow(namespace: string, sid: string) {
  return db.get<{ sess: string; expires_at: number }>('SELECT sess, expires_at FROM sessions WHERE namespace = ? AND sid = ?', [namespace, sid]);
}

describe('DatabaseSessionStore', () => {
  describe('get and set', () => {
    it('get of an unknown sid answers null without an error', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      assert.equal(await store.get('nope'), null);
    });

    it('set then get returns the session as stored, cookie included', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      const sess = sessionData({ user: 'ada', count: 2, admin: false });
      await store.set('sid1', sess);
      assert.deepEqual(await store.get('sid1'), JSON.parse(JSON.stringify(sess)));
    });

    it('set again replaces the session (upsert), it does not add a second one', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('sid1', sessionData({ v: 1 }));
      await store.set('sid1', sessionData({ v: 2, extra: true }));
      const got = (await store.get('sid1')) as unknown as Record<string, unknown>;
      assert.equal(got.v, 2);
      assert.equal(got.extra, true);
      assert.equal(await store.length(), 1);
    });

    it('stores the cookie\'s expiry as the row\'s expiry', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      const sess = sessionData({}, HOUR);
      await store.set('sid1', sess);
      const row = await storedRow('ns', 'sid1');
      assert.equal(row?.expires_at, Date.parse(String(sess.cookie.expires)));
    });

    it('set and destroy accept no callback (express-session sometimes calls them so)', async () => {
      // The store's database, keeping each statement's promise: the test waits for the very writes
      // it started instead of polling for their effect.
      const statements: Promise<unknown>[] = [];
      const kept = <T>(promise: Promise<T>) => (statements.push(promise), promise);
      const raw = new DatabaseSessionStore({ ...db, run: (sql, params) => kept(db.run(sql, params)), all: (sql, params) => kept(db.all(sql, params)) }, 'ns');
      assert.doesNotThrow(() => raw.set('sid1', sessionData({ a: 1 })));
      assert.doesNotThrow(() => raw.destroy('other'));
      assert.equal(statements.length, 2, 'both went to the database at once');
      await Promise.all(statements);
      assert.ok(await storedRow('ns', 'sid1'), 'the set without a callback was written');
      assert.equal(((await api(raw).get('sid1')) as unknown as Record<string, unknown>)?.a, 1);
    });
  });

  describe('touch', () => {
    it('keeps the stored data and moves the expiry (cookie and row) forward', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('sid1', sessionData({ user: 'ada' }, HOUR));
      const before = await storedRow('ns', 'sid1');
      // express-session passes its own (possibly stale) copy of the session: only its cookie counts.
      const later = sessionData({ user: 'STALE', added: 'ignored' }, 2 * HOUR);
      await store.touch('sid1', later);
      const got = (await store.get('sid1')) as unknown as Record<string, unknown> & SessionData;
      assert.equal(got.user, 'ada', 'data untouched');
      assert.equal(got.added, undefined);
      assert.equal(got.cookie.expires, later.cookie.expires, 'the cookie is the new one');
      const row = await storedRow('ns', 'sid1');
      assert.ok(row && before && row.expires_at > before.expires_at, 'the row expires later');
      assert.equal(row.expires_at, Date.parse(String(later.cookie.expires)));
    });

    it('of an unknown sid creates nothing', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.touch('ghost', sessionData({ a: 1 }));
      assert.equal(await store.get('ghost'), null);
      assert.equal(await store.length(), 0);
    });

    it('can bring a session back from the edge of expiry', () =>
      // Time passing is what is tested: the clock is moved past the first expiry by hand.
      withHandClock(async (clock) => {
        const store = api(new DatabaseSessionStore(db, 'ns'));
        await store.set('sid1', sessionData({ a: 1 }, 50));
        await store.touch('sid1', sessionData({}, HOUR));
        clock.tick(80);
        assert.equal(((await store.get('sid1')) as unknown as Record<string, unknown>)?.a, 1);
      }));
  });

  describe('what set and touch answer (the inspector shows it)', () => {
    const answerOf = (call: (callback: (err: unknown, held?: unknown) => void) => void) =>
      new Promise<unknown>((resolve, reject) => call((err, held) => (err ? reject(err) : resolve(held))));

    it('set answers with the session as its row now holds it', async () => {
      const raw = new DatabaseSessionStore(db, 'ns');
      const sess = sessionData({ user: 'ada' });
      const held = await answerOf((cb) => raw.set('s', sess, cb));
      assert.deepEqual(held, JSON.parse(JSON.stringify(sess)));
      assert.deepEqual(held, JSON.parse((await storedRow('ns', 's'))!.sess));
    });

    it('touch answers with the row after the touch: the new cookie, the stored data', async () => {
      const raw = new DatabaseSessionStore(db, 'ns');
      await api(raw).set('s', sessionData({ user: 'ada' }, HOUR));
      const later = sessionData({ user: 'STALE' }, 2 * HOUR);
      const held = (await answerOf((cb) => raw.touch('s', later, cb))) as Record<string, unknown> & SessionData;
      assert.equal(held.user, 'ada');
      assert.equal(held.cookie.expires, later.cookie.expires);
      assert.deepEqual(held, JSON.parse((await storedRow('ns', 's'))!.sess));
    });

    it('touch of an unknown session answers null: the store holds nothing', async () => {
      const raw = new DatabaseSessionStore(db, 'ns');
      assert.equal(await answerOf((cb) => raw.touch('ghost', sessionData({}), cb)), null);
    });
  });

  describe('touchAfterMs (the site\'s own session)', () => {
    it('a touch soon after this process wrote the session writes nothing', async () => {
      const store = api(new DatabaseSessionStore(db, 'site', { touchAfterMs: 60_000 }));
      await store.set('s', sessionData({ learnerId: 'x' }, HOUR));
      const before = await storedRow('site', 's');
      await store.touch('s', sessionData({ learnerId: 'x' }, 2 * HOUR));
      assert.deepEqual(await storedRow('site', 's'), before);
    });

    it('a touch once touchAfterMs has passed moves the expiry', () =>
      // Time passing is what is tested: the clock is moved past touchAfterMs by hand.
      withHandClock(async (clock) => {
        const store = api(new DatabaseSessionStore(db, 'site', { touchAfterMs: 30 }));
        await store.set('s', sessionData({ learnerId: 'x' }, HOUR));
        clock.tick(50);
        const later = sessionData({ learnerId: 'x' }, 2 * HOUR);
        await store.touch('s', later);
        assert.equal((await storedRow('site', 's'))?.expires_at, Date.parse(String(later.cookie.expires)));
      }));

    it('a skipped touch answers synchronously, so express-session sends the page in one piece', async () => {
      // express-session's res.end sends all but the last byte when the store answers later, and
      // that byte only once it has: a page would wait a whole event-loop turn for its last byte.
      const raw = new DatabaseSessionStore(db, 'site', { touchAfterMs: 60_000 });
      await api(raw).set('s', sessionData({ learnerId: 'x' }, HOUR));
      let answered = false;
      raw.touch('s', sessionData({ learnerId: 'x' }, HOUR), () => (answered = true));
      assert.equal(answered, true);
    });
  });

  describe('destroy', () => {
    it('removes the session; destroying it again is not an error', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('sid1', sessionData({ a: 1 }));
      await store.set('sid2', sessionData({ b: 2 }));
      await store.destroy('sid1');
      assert.equal(await store.get('sid1'), null);
      assert.ok(await store.get('sid2'), 'only that session');
      await store.destroy('sid1');
    });
  });

  describe('all, length and clear', () => {
    it('all answers the live sessions by sid; length counts them', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('b', sessionData({ n: 2 }));
      await store.set('a', sessionData({ n: 1 }));
      const all = await store.all();
      assert.deepEqual(Object.keys(all), ['a', 'b']);
      assert.equal((all.a as unknown as Record<string, unknown>).n, 1);
      assert.equal(await store.length(), 2);
    });

    it('all and length leave out expired sessions', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('live', sessionData({}, HOUR));
      await store.set('dead', sessionData({}, -1000));
      assert.deepEqual(Object.keys(await store.all()), ['live']);
      assert.equal(await store.length(), 1);
    });

    it('an empty store: all is {}, length is 0', async () => {
      const store = api(new DatabaseSessionStore(db, 'empty'));
      assert.deepEqual({ ...(await store.all()) }, {});
      assert.equal(await store.length(), 0);
    });

    it('clear removes every session of the namespace', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('a', sessionData({}));
      await store.set('b', sessionData({}, -1000));
      await store.clear();
      assert.equal(await store.length(), 0);
      const row = await db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE namespace = 'ns'");
      assert.equal(row?.n, 0, 'expired rows too');
    });
  });

  describe('namespaces', () => {
    it('the same sid in two namespaces are two separate sessions', async () => {
      const one = api(new DatabaseSessionStore(db, 'sandbox-one'));
      const two = api(new DatabaseSessionStore(db, 'sandbox-two'));
      await one.set('same', sessionData({ owner: 'one' }));
      assert.equal(await two.get('same'), null, 'two cannot read one\'s session');
      await two.set('same', sessionData({ owner: 'two' }));
      assert.equal(((await one.get('same')) as unknown as Record<string, unknown>).owner, 'one');
      assert.equal(((await two.get('same')) as unknown as Record<string, unknown>).owner, 'two');
    });

    it('touch, destroy, all, length and clear stay within their namespace', async () => {
      const one = api(new DatabaseSessionStore(db, 'sandbox-one'));
      const two = api(new DatabaseSessionStore(db, 'sandbox-two'));
      await one.set('s', sessionData({ owner: 'one' }, HOUR));
      await one.set('t', sessionData({ owner: 'one' }));
      await two.set('s', sessionData({ owner: 'two' }, HOUR));
      const before = await storedRow('sandbox-one', 's');
      await two.touch('s', sessionData({}, 5 * HOUR));
      assert.equal((await storedRow('sandbox-one', 's'))?.expires_at, before?.expires_at);
      await two.destroy('t');
      assert.ok(await one.get('t'));
      assert.deepEqual(Object.keys(await two.all()), ['s']);
      assert.equal(await one.length(), 2);
      await two.clear();
      assert.equal(await two.length(), 0);
      assert.equal(await one.length(), 2);
    });

    it('the site\'s own namespace is just another namespace', async () => {
      const site = api(new DatabaseSessionStore(db, 'site'));
      const sandbox = api(new DatabaseSessionStore(db, 'AAAAAAAAAAAAAAAAAAAAAA'));
      await site.set('x', sessionData({ learnerId: 'l1' }));
      assert.equal(await sandbox.get('x'), null);
    });
  });

  describe('expiry', () => {
    it('an expired session is not returned by get, and get removes it (like MemoryStore)', async () => {
      const raw = new DatabaseSessionStore(db, 'ns');
      const store = api(raw);
      await store.set('old', sessionData({ a: 1 }, -1000));
      assert.ok(await storedRow('ns', 'old'), 'the row is there before the get');
      assert.equal(await store.get('old'), null);
      assert.equal(await storedRow('ns', 'old'), undefined, 'the row is gone after the get');
      assert.equal(await raw.peek('old'), null);
    });

    it('a session expiring at this very moment counts as expired', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      await store.set('now', sessionData({}, 0));
      assert.equal(await store.get('now'), null);
    });

    it('a browser-session cookie (no expires) is kept for a day', async () => {
      const store = api(new DatabaseSessionStore(db, 'ns'));
      const setAt = Date.now();
      await store.set('b', sessionData({ a: 1 }, null));
      const doneAt = Date.now();
      const row = await storedRow('ns', 'b');
      assert.ok(row && row.expires_at >= setAt + DAY && row.expires_at <= doneAt + DAY, `expires_at ${row?.expires_at}: not a day after the set`);
      assert.ok(await store.get('b'));
    });

    it('peek shows an expired session as held, without removing it', async () => {
      const raw = new DatabaseSessionStore(db, 'ns');
      await api(raw).set('old', sessionData({ a: 1 }, -1000));
      assert.equal(((await raw.peek('old')) as unknown as Record<string, unknown>)?.a, 1);
      assert.ok(await storedRow('ns', 'old'));
    });
  });

  describe('read cache (cached: the site\'s own session)', () => {
    /** Another app process on the same file: its own connection and its own store. */
    async function otherProcess() {
      const otherDb = await database.open();
      return { store: api(new DatabaseSessionStore(otherDb, 'site')), close: () => otherDb.close() };
    }

    it('this process\'s own writes are seen by the next get at once: set, touch, destroy, clear', async () => {
      const store = api(new DatabaseSessionStore(db, 'site', { cached: true }));
      await store.set('s', sessionData({ learnerId: 'one' }));
      assert.equal(((await store.get('s')) as unknown as Record<string, unknown>).learnerId, 'one');
      await store.set('s', sessionData({ learnerId: 'two' }));
      assert.equal(((await store.get('s')) as unknown as Record<string, unknown>).learnerId, 'two');
      const longer = sessionData({ learnerId: 'two' }, 2 * DAY);
      await store.touch('s', longer);
      assert.equal((await store.get('s'))?.cookie.expires, longer.cookie.expires);
      await store.destroy('s');
      assert.equal(await store.get('s'), null);
      await store.set('t', sessionData({ learnerId: 'three' }));
      await store.get('t');
      await store.clear();
      assert.equal(await store.get('t'), null);
    });

    it('with no other process writing, each session is read from the database once', async () => {
      let reads = 0;
      const store = api(new DatabaseSessionStore({ ...db, get: (sql, params) => (reads++, db.get(sql, params)) }, 'site', { cached: true }));
      await store.set('once', sessionData({ learnerId: 'x' }));
      for (let i = 0; i < 5; i++) assert.equal(((await store.get('once')) as unknown as Record<string, unknown>).learnerId, 'x');
      assert.equal(reads, 1);
    });

    it('another process\'s change is seen once otherWritesWithinMs has passed, never later', async () => {
      const quick = await database.open({ otherWritesWithinMs: 150 });
      const store = api(new DatabaseSessionStore(quick, 'site', { cached: true }));
      const other = await otherProcess();
      try {
        // Time passing is what is tested: the clock is moved past otherWritesWithinMs by hand
        // (SQLite); PostgreSQL tells this instance at once, by a notification.
        await withHandClock(async (clock) => {
          await store.set('s', sessionData({ learnerId: 'before' }));
          await store.get('s');
          const told = quick.changes('site_sessions').changed?.();
          await other.store.destroy('s');
          if (told) await told;
          else clock.tick(200);
          assert.equal(await store.get('s'), null);
        });
      } finally {
        await other.close();
        await quick.close();
      }
    });

    it('without cached (sandboxes), every get reads the database', async () => {
      const store = api(new DatabaseSessionStore(db, 'site'));
      const other = await otherProcess();
      try {
        await store.set('s', sessionData({ learnerId: 'before' }));
        await store.get('s');
        await other.store.set('s', sessionData({ learnerId: 'after' }));
        assert.equal(((await store.get('s')) as unknown as Record<string, unknown>).learnerId, 'after');
      } finally {
        await other.close();
      }
    });

    it('a cached session past its expiry is not served from memory', () =>
      // Time passing is what is tested: the clock is moved past the expiry by hand.
      withHandClock(async (clock) => {
        const store = api(new DatabaseSessionStore(db, 'site', { cached: true }));
        await store.set('short', sessionData({ learnerId: 'x' }, 100));
        assert.ok(await store.get('short'));
        clock.tick(150);
        assert.equal(await store.get('short'), null);
        assert.equal(await storedRow('site', 'short'), undefined, 'and the expired row is removed, as without the cache');
      }));

    it('a cached session past its expiry that another process touched since is still served', async () => {
      const store = api(new DatabaseSessionStore(db, 'site', { cached: true }));
      const other = await otherProcess();
      try {
        // Time passing is what is tested: the clock is moved past the first expiry by hand.
        await withHandClock(async (clock) => {
          await store.set('rolled', sessionData({ learnerId: 'x' }, 100));
          await store.get('rolled');
          await other.store.touch('rolled', sessionData({ learnerId: 'x' }, HOUR));
          clock.tick(150);
          assert.equal(((await store.get('rolled')) as unknown as Record<string, unknown>)?.learnerId, 'x');
        });
      } finally {
        await other.close();
      }
    });

    it('each get hands out its own copy: express-session changes the session it is given', async () => {
      const store = api(new DatabaseSessionStore(db, 'site', { cached: true }));
      await store.set('s', sessionData({ learnerId: 'x' }));
      const first = (await store.get('s')) as unknown as Record<string, unknown>;
      first.learnerId = 'changed in memory, never saved';
      assert.equal(((await store.get('s')) as unknown as Record<string, unknown>).learnerId, 'x');
    });
  });

  describe('expiresAt', () => {
    it('reads an ISO string or a Date expiry', () => {
      const when = new Date('2030-01-02T03:04:05.678Z');
      assert.equal(expiresAt({ cookie: { expires: when.toISOString() } } as unknown as SessionData), when.getTime());
      assert.equal(expiresAt({ cookie: { expires: when } } as unknown as SessionData), when.getTime());
    });

    it('falls back to a day from now for a missing, null or unreadable expiry', () => {
      for (const cookie of [{}, { expires: null }, { expires: 'not a date' }, undefined]) {
        const before = Date.now();
        const value = expiresAt({ cookie } as unknown as SessionData);
        assert.ok(value >= before + DAY && value <= Date.now() + DAY, `${JSON.stringify(cookie)}: ${value} is not a day from now`);
      }
    });
  });

  describe('errors', () => {
    it('a database error reaches the callback, not an unhandled rejection', async () => {
      const own = await freshDatabase('closed');
      const closed = await own.open();
      await closed.close();
      // SQLite's and pg's own words for a closed connection.
      const closedError = /SQLITE_MISUSE|closed|after calling end/i;
      try {
        const store = api(new DatabaseSessionStore(closed, 'ns'));
        await assert.rejects(store.get('x'), closedError);
        await assert.rejects(store.set('x', sessionData({})), closedError);
        await assert.rejects(store.touch('x', sessionData({})), closedError);
        await assert.rejects(store.destroy('x'), closedError);
        await assert.rejects(store.length(), closedError);
      } finally {
        await own.drop();
      }
    });

    it('the store is an express-session Store (so express-session can inflate sessions through it)', async () => {
      const { default: session } = await import('express-session');
      const store = new DatabaseSessionStore(db, 'ns');
      assert.ok(store instanceof session.Store);
      assert.equal(typeof store.createSession, 'function');
      assert.equal(typeof store.regenerate, 'function');
    });
  });
});
