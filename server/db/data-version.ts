// Whether another connection to the database file (another app process) has committed since this
// process last looked. SQLite's `PRAGMA data_version` changes with every commit made through
// another connection, and never with this connection's own. So one query tells every per-process
// cache (the site's sessions, learners' progress, sandboxes' options) whether what it holds may be
// stale: with one app process nothing is read again because time has passed, and with several, a
// change made elsewhere shows within `withinMs`. (Re-reading each entry on its own every second
// instead costs hundreds of queries a second under a classroom's load: docs/performance.md.)

import type { Generations } from './connection.ts';

/** Just what a look needs from the database (see sqlite.ts). */
interface Queryable {
  get<T extends Record<string, unknown>>(sql: string): Promise<T | undefined>;
}

export class DataVersionWatch implements Generations {
  /** Counts the changes seen. Anything read in an earlier generation may be stale. */
  private seen = 0;
  private dataVersion: number | undefined;
  /** When the newest completed look started: no commit made elsewhere before then goes unseen. */
  private lookedAt = -Infinity;
  private looking: { startedAt: number; done: Promise<void> } | null = null;

  constructor(
    private readonly db: Queryable,
    readonly withinMs = 1000,
  ) {}

  /**
   * The current generation, known from a look started at most `withinMs` ago: waits for a look when
   * the newest is older than that, and starts one in the background past three quarters of it, so
   * steady traffic never waits. A value read after this resolves and tagged with the generation it
   * returned is current for as long as `generation()` keeps returning the same number.
   */
  async generation(): Promise<number> {
    const now = Date.now();
    const age = now - this.lookedAt;
    // A clock set back (age below 0) must not stop the looks until it catches up.
    if (age >= this.withinMs || age < 0) {
      // A look still running in the background counts only if it started recently enough.
      await (this.looking && now - this.looking.startedAt < this.withinMs ? this.looking.done : this.look());
    } else if (age >= this.withinMs * 0.75 && !this.looking) {
      // A failed background look changes nothing: past withinMs, the caller's own look reports.
      this.look().catch(() => {});
    }
    return this.seen;
  }

  private look(): Promise<void> {
    const looking = { startedAt: Date.now(), done: Promise.resolve() };
    looking.done = this.readVersion(looking.startedAt).finally(() => {
      if (this.looking === looking) this.looking = null;
    });
    this.looking = looking;
    return looking.done;
  }

  private async readVersion(startedAt: number): Promise<void> {
    const version = (await this.db.get<{ data_version: number }>('PRAGMA data_version'))?.data_version;
    // Looks may finish out of order; a number different from the last one seen means "may have changed".
    if (version !== this.dataVersion) {
      this.seen++;
      this.dataVersion = version;
    }
    // The newest start wins (looks may finish out of order), unless the clock was set back since.
    if (startedAt >= this.lookedAt || this.lookedAt > Date.now()) this.lookedAt = startedAt;
  }
}
