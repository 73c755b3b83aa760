// The lab's own session (learner progress, later), configured the way the lessons recommend:
// a non-default name, HttpOnly, Secure over HTTPS, SameSite=Lax, an idle timeout that rolls, a
// server-side store, and no cookie until there is something to keep.
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { Config } from './config.ts';
import type { Database } from './database.ts';
import { SITE_COOKIE_NAME } from './sandbox-options.ts';
import { SqliteSessionStore } from './sqlite-session-store.ts';

/** Idle timeout: progress in a course is worth keeping for weeks, and rolling renews it on use. */
const IDLE_TIMEOUT_MS = 30 * 24 * 60 * 60 * 1000;

export function siteSession(db: Database, config: Config): RequestHandler {
  return session({
    name: SITE_COOKIE_NAME,
    secret: config.siteSessionSecret,
    // Expiry rolls with each visit; writing it once a minute is plenty for a 30-day timeout.
    // A page and the task refreshes after it read the session within a second: keep it that long
    // (another process on the same database may change it; within a second is as fresh as we need).
    store: new SqliteSessionStore(db, 'site', { touchAfterMs: 60_000, cacheMs: 1000 }),
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
    rolling: true,
  });
}

declare module 'express-session' {
  interface SessionData {
    /** Set when a learner first opens a lesson; their progress is stored under it. */
    learnerId: string;
  }
}
