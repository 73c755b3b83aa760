// The store of a sandbox whose options name a store this lab does not have (store: 'redis' where
// REDIS_URL is not set: a share link from another lab, or options kept from when it was set). It
// builds, and every call fails saying why, so the learner sees express-session's real behaviour
// with a failing store, explained, and never a crash.
import session from 'express-session';
import type { SessionData } from 'express-session';

type Callback<T = void> = (err?: unknown, result?: T) => void;

export class MissingStore extends session.Store {
  constructor(private readonly why: string) {
    super();
  }

  private fail(callback?: Callback<never>): void {
    const err = new Error(this.why);
    if (callback) setImmediate(() => callback(err));
  }

  override get(_sid: string, callback: Callback<SessionData | null>): void {
    this.fail(callback);
  }

  override set(_sid: string, _data: SessionData, callback?: Callback): void {
    this.fail(callback);
  }

  override destroy(_sid: string, callback?: Callback): void {
    this.fail(callback);
  }

  override touch(_sid: string, _data: SessionData, callback?: Callback): void {
    this.fail(callback);
  }

  async peek(): Promise<SessionData | null> {
    return null;
  }
}
