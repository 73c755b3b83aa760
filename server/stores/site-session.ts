// The lab's own session (learner progress), configured the way the lessons recommend: a
// non-default name, HttpOnly, Secure over HTTPS, SameSite=Lax, an idle timeout renewed on use, a
// server-side store, and no cookie until there is something to keep.
import { randomBytes } from 'node:crypto';
import session from 'express-session';
import type { Request, RequestHandler } from 'express';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { SITE_COOKIE_NAME } from '../sandbox/options.ts';
import { DatabaseSessionStore } from './database-session-store.ts';
import { LabRedisStore } from './redis-session-store.ts';
import type { RedisConnection } from './redis-connection.ts';
import { DatabaseUnavailable } from '../db/connection.ts';
import { saveBeforeRedirect } from './save-before-redirect.ts';

/** Idle timeout: progress in a course is worth keeping for weeks, and it is renewed on use. */
const IDLE_TIMEOUT_MS = 30 * 24 * 60 * 60 * 1000;
/** How often a learner's browser is sent a fresh Expires (see renewCookieDaily). */
export const COOKIE_RENEWAL_MS = 24 * 60 * 60 * 1000;

/** Whether the lab's own sessions live in Redis (SITE_SESSION_STORE=redis, with a Redis to use); else in the database. */
export function sessionsOnRedis(config: Config, redis: RedisConnection | null): boolean {
  return config.siteSessionStore === 'redis' && redis !== null;
}

/** The session middleware, its save before any redirect, then the daily renewal of its cookie. */
export function siteSession(db: Database, config: Config, redis: RedisConnection | null = null): RequestHandler[] {
  const middleware = session({
    name: SITE_COOKIE_NAME,
    secret: config.siteSessionSecret,
    // The store's expiry slides with each visit; writing it once a minute is plenty for a 30-day
    // timeout. A page and the task refreshes after it read the same session: keep it in memory
    // while no other process on the same database may have changed it (see server/db/data-version.ts, notifications.ts).
    // On PostgreSQL every read asks the server (a primary-key read): another instance's write to a
    // learner's session may still be on its way as a notification, and a stale copy saved back
    // would undo it. SQLite's processes share one file on one machine, where data_version is cheap.
    store: sessionsOnRedis(config, redis) ? siteRedisStore(redis!) : new DatabaseSessionStore(db, 'site', { touchAfterMs: 60_000, cached: db.engine === 'sqlite' }),
    cookie: {
      path: '/',
      httpOnly: true,
      // In production the lab sits behind HTTPS; locally, 'auto' keeps it working over http://localhost.
      secure: config.production ? true : 'auto',
      sameSite: 'lax',
      maxAge: IDLE_TIMEOUT_MS,
    },
    resave: false,
    saveUninitialized: false,
    // Not rolling: see renewCookieDaily.
    rolling: false,
  });
  return [middleware, saveBeforeRedirect, renewCookieDaily];
}

/**
 * Keeps the idle timeout rolling without re-sending the cookie on every answer. `rolling: true`
 * would sign and send a Set-Cookie with every answer, a cost docs/performance.md measures. With rolling off, express-session sends the cookie when the session changes
 * (its shouldSetCookie: `cookie.expires != null && isModified(session)`): changing the session once
 * a day renews the browser's Expires, so the cookie lasts 29 to 30 days after the last visit.
 */
const renewCookieDaily: RequestHandler = (req, _res, next) => {
  const { session } = req;
  if (session.learnerId !== undefined && !(Date.now() - (session.cookieSentAt ?? 0) < COOKIE_RENEWAL_MS)) session.cookieSentAt = Date.now();
  next();
};

/**
 * The lab's own sessions in Redis (SITE_SESSION_STORE=redis). While Redis is down no page that
 * needs the learner's session can be served: its errors become a 503 that says to try again (as
 * for the database), not a 500.
 */
function siteRedisStore(redis: RedisConnection): LabRedisStore {
  const store = new LabRedisStore(redis, 'site:');
  for (const op of ['get', 'set', 'touch', 'destroy'] as const) {
    const original = store[op].bind(store) as (...args: unknown[]) => unknown;
    (store as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
      const callback = args.findIndex((arg) => typeof arg === 'function');
      if (callback !== -1) {
        const done = args[callback] as (err: unknown, ...rest: unknown[]) => void;
        args[callback] = (err: unknown, ...rest: unknown[]) => done(err ? new DatabaseUnavailable(err as Error, "the lab's session store (Redis)") : err, ...rest);
      }
      return original(...args);
    };
  }
  return store;
}

/** Gives a new learner an id: the first thing the site session keeps, so its cookie goes out with this answer. */
/** The learner's id from the site session; with `create`, a new one (which makes the session save). */
export function learnerId(req: Request, create: boolean): string | null {
  if (req.session.learnerId) return req.session.learnerId;
  return create ? startLearner(req) : null;
}

export function startLearner(req: Request): string {
  const learnerId = randomBytes(16).toString('base64url');
  req.session.learnerId = learnerId;
  req.session.cookieSentAt = Date.now();
  return learnerId;
}

declare module 'express-session' {
  interface SessionData {
    /** Set when a learner first opens a lesson; their progress is stored under it. */
    learnerId: string;
    /** When express-session last sent the cookie with a fresh Expires (ms since the epoch). */
    cookieSentAt: number;
    /** What "Reset this lesson" cleared, shown once on the lesson page that follows it. */
    resetNote: { lesson: string; cleared: string[] };
  }
}
