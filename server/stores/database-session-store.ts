// An express-session Store over the lab's database (SQLite or PostgreSQL), one namespace per
// sandbox (and one for the site itself). Built like express-session's own MemoryStore: a subclass
// of Store.
import session from 'express-session';
import type { SessionData } from 'express-session';
import type { Database } from '../db/database.ts';
import { RowCache } from '../db/row-cache.ts';
import { sessionWithCookie } from '../db/dialect.ts';

type Callback<T = void> = (err: unknown, result?: T) => void;

/** A browser-session cookie (no maxAge) has no expiry; keep its stored session this long. */
const BROWSER_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

export interface DatabaseSessionStoreOptions {
  /**
   * Skip a touch's write when this process wrote the session's expiry less than this long ago.
   * The lab's own long-lived session uses it (a page view need not be a disk write); sandboxes
   * do not, because their store's every call is lesson material.
   */
  touchAfterMs?: number;
  /**
   * Answer `get` from memory while nothing may have changed the session: this process's writes
   * go through the store, and another process's show within a second (see server/db/data-version.ts, notifications.ts). The
   * site's session uses it: a lesson page and the task refreshes that follow it read the same
   * session. Sandboxes do not: every store call they make is shown to the learner. Only the
   * "site" namespace may be cached: other instances announce changes to its rows alone.
   */
  cached?: boolean;
}

type StoredRow = {
  sess: string;
  expires_at: number;
};

/** Reads and writes straight through: what a sandbox's store does. */
const uncached: Pick<RowCache<StoredRow | undefined>, 'get' | 'writing'> = {
  get: (_sid, read) => read(),
  writing: (_sid, write) => write(),
};

export class DatabaseSessionStore extends session.Store {
  /** Its set and touch answer with the row their write left (RETURNING): the recorder reads no more. */
  readonly reportsHeldSession = true;
  private readonly touchAfterMs: number;
  /** Session id to when this process last wrote its expiry (only kept when touchAfterMs is set). */
  private readonly lastWritten = new Map<string, number>();
  private readonly cache: Pick<RowCache<StoredRow | undefined>, 'get' | 'writing'>;

  constructor(
    private readonly db: Database,
    readonly namespace: string,
    { touchAfterMs = 0, cached = false }: DatabaseSessionStoreOptions = {},
  ) {
    super();
    this.touchAfterMs = touchAfterMs;
    if (cached && namespace !== 'site') throw new Error('only the site\'s own sessions may be cached: other instances announce changes to those alone');
    this.cache = cached ? new RowCache(db.changes('site_sessions')) : uncached;
  }

  private noteWrite(sid: string): void {
    if (this.touchAfterMs === 0) return;
    if (this.lastWritten.size >= 10_000) this.lastWritten.clear();
    this.lastWritten.set(sid, Date.now());
  }

  override get(sid: string, callback: Callback<SessionData | null>): void {
    settle(async () => {
      const read = () => this.db.get<StoredRow>('SELECT sess, expires_at FROM sessions WHERE namespace = ? AND sid = ?', [this.namespace, sid]);
      let row = await this.cache.get(sid, read);
      // A cached row past its expiry may have been touched since by another process: ask again.
      if (row && row.expires_at <= Date.now()) row = await read();
      if (!row) return null;
      if (row.expires_at <= Date.now()) {
        // Like MemoryStore: an expired session is removed when it is read.
        await this.cache.writing(sid, () => this.db.run('DELETE FROM sessions WHERE namespace = ? AND sid = ?', [this.namespace, sid]));
        return null;
      }
      return JSON.parse(row.sess) as SessionData;
    }, callback);
  }

  /** Answers with the session as the row now holds it (express-session ignores it; the lab's inspector shows it). */
  override set(sid: string, sess: SessionData, callback?: Callback<SessionData | null>): void {
    this.noteWrite(sid);
    const write = () =>
      this.db.all<{ sess: string }>(
        `INSERT INTO sessions (namespace, sid, sess, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, sid) DO UPDATE SET sess = excluded.sess, expires_at = excluded.expires_at
         RETURNING sess`,
        [this.namespace, sid, JSON.stringify(sess), expiresAt(sess)],
      );
    settle(() => this.cache.writing(sid, write).then(heldAfter), callback);
  }

  /**
   * Refreshes the expiry only: the stored data is left alone, which is what makes `resave: false`
   * safe. Answers with the session as the row now holds it (null: there was no such session).
   */
  override touch(sid: string, sess: SessionData, callback?: Callback<SessionData | null>): void {
    const written = this.lastWritten.get(sid);
    if (written !== undefined && Date.now() - written < this.touchAfterMs) {
      // Nothing to write, so answer at once. express-session expects this (its `sync` flag in
      // res.end): the page then goes out in one piece. Answered later, express-session would
      // send all but the body's last byte, and that byte a whole event-loop turn after.
      callback?.(null);
      return;
    }
    this.noteWrite(sid);
    const write = () =>
      this.db.all<{ sess: string }>(
        `UPDATE sessions SET sess = ${sessionWithCookie(this.db.engine)}, expires_at = ?
         WHERE namespace = ? AND sid = ?
         RETURNING sess`,
        [JSON.stringify(sess.cookie), expiresAt(sess), this.namespace, sid],
      );
    settle(() => this.cache.writing(sid, write).then(heldAfter), callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    settle(async () => void (await this.cache.writing(sid, () => this.db.run('DELETE FROM sessions WHERE namespace = ? AND sid = ?', [this.namespace, sid]))), callback);
  }

  override all(callback: Callback<Record<string, SessionData>>): void {
    settle(async () => {
      const rows = await this.db.all<{ sid: string; sess: string }>(
        'SELECT sid, sess FROM sessions WHERE namespace = ? AND expires_at > ? ORDER BY sid',
        [this.namespace, Date.now()],
      );
      const sessions: Record<string, SessionData> = Object.create(null);
      for (const row of rows) sessions[row.sid] = JSON.parse(row.sess) as SessionData;
      return sessions;
    }, callback);
  }

  override length(callback: Callback<number>): void {
    settle(async () => {
      const row = await this.db.get<{ n: number }>(
        'SELECT count(*) AS n FROM sessions WHERE namespace = ? AND expires_at > ?',
        [this.namespace, Date.now()],
      );
      return row?.n ?? 0;
    }, callback);
  }

  override clear(callback?: Callback): void {
    settle(async () => void (await this.cache.writing(undefined, () => this.db.run('DELETE FROM sessions WHERE namespace = ?', [this.namespace]))), callback);
  }

  /** The stored session exactly as held, for the inspector: no expiry check, no side effect. */
  async peek(sid: string): Promise<SessionData | null> {
    const row = await this.db.get<{ sess: string }>('SELECT sess FROM sessions WHERE namespace = ? AND sid = ?', [this.namespace, sid]);
    return row ? (JSON.parse(row.sess) as SessionData) : null;
  }
}

/** What a write left in the row, from the write itself (RETURNING): no second query to look. */
function heldAfter(rows: { sess: string }[]): SessionData | null {
  return rows[0] ? (JSON.parse(rows[0].sess) as SessionData) : null;
}

export function expiresAt(sess: SessionData): number {
  const expires = sess.cookie?.expires;
  const time = expires ? new Date(expires).getTime() : NaN;
  return Number.isFinite(time) ? time : Date.now() + BROWSER_SESSION_TTL_MS;
}

/**
 * Runs the work and reports to a Node-style callback, always after the call has returned, as any
 * store over a database does. (Which request a store call belongs to is settled when the call is
 * made, not when it answers: see exchange/store-calls.ts.)
 */
function settle<T>(work: () => Promise<T>, callback: Callback<T> | undefined): void {
  work().then(
    (result) => callback?.(null, result),
    (err: unknown) => callback?.(err),
  );
}
