// A redirect that follows a change to the session goes out only once the store has the change: a
// browser follows a 303 on its headers, and express-session alone sends them before its save ends.
// The order is read from the server itself (the store's answer against writeHead), with
// express-session's own MemoryStore, which answers a turn later as any real store does.
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import session from 'express-session';
import { saveBeforeRedirect } from '../server/stores/save-before-redirect.ts';

declare module 'express-session' {
  interface SessionData {
    step: number;
  }
}

const MAX_AGE = 60_000;

/** What happened on the server, in order: the store's save answered, the headers went out. */
let events: string[] = [];

class WatchedStore extends session.MemoryStore {
  failNextSet = false;
  /** The session as the last set() was given it (a later touch() would mend its expiry in a MemoryStore). */
  lastSet: session.SessionData | null = null;
  override set(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void): void {
    this.lastSet = JSON.parse(JSON.stringify(sess)) as session.SessionData;
    if (this.failNextSet) {
      this.failNextSet = false;
      setImmediate(() => callback?.(new Error('the store is down')));
      return;
    }
    super.set(sid, sess, (err?: unknown) => {
      events.push('saved');
      callback?.(err);
    });
  }
}

function app(store: WatchedStore, withFix: boolean) {
  const app = express();
  app.use((_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: unknown[]) {
      events.push('headers');
      return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
    } as typeof res.writeHead;
    next();
  });
  app.use(session({ secret: 'test', store, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }));
  if (withFix) app.use(saveBeforeRedirect);
  app.post('/change', (req, res) => {
    req.session.step = (req.session.step ?? 0) + 1;
    res.redirect(303, '/next');
  });
  app.post('/same', (req, res) => {
    req.session.step = req.session.step ?? 0;
    res.redirect(303, '/next');
  });
  app.post('/nothing', (_req, res) => res.redirect(303, '/next'));
  app.post('/regenerate', (req, res, next) =>
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.step = 99;
      res.redirect(303, '/next');
    }),
  );
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(503).type('text').send(`could not save: ${err.message}`);
  });
  return app;
}

async function serve(store: WatchedStore, withFix: boolean): Promise<{ server: Server; url: string }> {
  const server = app(store, withFix).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('a redirect after a session change', () => {
  const store = new WatchedStore();
  let fixed: { server: Server; url: string };
  let bare: { server: Server; url: string };
  before(async () => {
    [fixed, bare] = await Promise.all([serve(store, true), serve(store, false)]);
  });
  after(() => {
    fixed.server.close();
    bare.server.close();
  });

  const post = async (url: string, cookie = '') => {
    events = [];
    const res = await fetch(url, { method: 'POST', redirect: 'manual', headers: cookie ? { cookie } : {} });
    await res.text();
    return res;
  };

  it('without it, express-session sends the headers before the store has answered (the gap this closes)', async () => {
    await post(`${bare.url}/change`);
    assert.deepEqual(events, ['headers', 'saved']);
  });

  it('goes out after the store has the new session, and saves it once', async () => {
    const res = await post(`${fixed.url}/change`);
    assert.equal(res.status, 303);
    assert.deepEqual(events, ['saved', 'headers']);
    const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
    assert.ok(cookie, 'the new session cookie is sent with the redirect');
    // A changed session that already had a cookie: saved first as well.
    await post(`${fixed.url}/change`, cookie);
    assert.deepEqual(events, ['saved', 'headers']);
    // Unchanged: not saved at all (resave is off), so nothing to wait for.
    await post(`${fixed.url}/same`, cookie);
    assert.deepEqual(events, ['headers']);
  });

  it('leaves a regenerated session to express-session, which saves it once', async () => {
    const cookie = (await post(`${fixed.url}/change`)).headers.getSetCookie()[0]!.split(';')[0]!;
    const res = await post(`${fixed.url}/regenerate`, cookie);
    assert.equal(res.status, 303);
    assert.deepEqual(events.filter((e) => e === 'saved'), ['saved']);
  });

  it('leaves a visitor with no session without one (saveUninitialized stays false)', async () => {
    const res = await post(`${fixed.url}/nothing`);
    assert.equal(res.status, 303);
    assert.deepEqual(events, ['headers']);
    assert.deepEqual(res.headers.getSetCookie(), []);
  });

  it('saves the renewed expiry the cookie goes out with, not the one the session was loaded with', async () => {
    const start = Date.parse('2026-12-07T10:00:00Z');
    mock.timers.enable({ apis: ['Date'], now: start });
    try {
      const first = await post(`${fixed.url}/change`);
      const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
      mock.timers.tick(10_000);
      const second = await post(`${fixed.url}/change`, cookie);
      // What the save wrote: the lab's own store skips the touch that follows a fresh write.
      assert.equal(new Date(store.lastSet!.cookie.expires!).getTime(), start + 10_000 + MAX_AGE);
      assert.match(second.headers.getSetCookie()[0]!, new RegExp(`Expires=${new Date(start + 10_000 + MAX_AGE).toUTCString()}`));
    } finally {
      mock.timers.reset();
    }
  });

  it('a save that fails is the error, not a redirect to a page that would miss the change', async () => {
    store.failNextSet = true;
    const res = await post(`${fixed.url}/change`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('location'), null);
  });
});
