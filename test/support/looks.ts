// A DataVersionWatch's looks (its one query, PRAGMA data_version) counted and awaitable, so a test can
// wait for a background look to have answered instead of sleeping "long enough" for it.
import { DataVersionWatch } from '../../server/db/data-version.ts';
import type { Database } from '../../server/db/database.ts';

/** What a DataVersionWatch asks of a connection. */
export interface Queryable {
  get<T extends Record<string, unknown>>(sql: string): Promise<T | undefined>;
}

export interface WatchedLooks {
  get<T extends Record<string, unknown>>(sql: string): Promise<T | undefined>;
  /** How many looks have started. */
  count(): number;
  /** Resolves once every look started so far has answered or failed (and the watch has taken it in). */
  settled(): Promise<void>;
}

export function watchLooks(db: Queryable): WatchedLooks {
  const looks: Promise<unknown>[] = [];
  return {
    get: <T extends Record<string, unknown>>(sql: string) => {
      const look = db.get<T>(sql);
      looks.push(look);
      return look;
    },
    count: () => looks.length,
    // The watch awaited each look before this does, so its own handling of the answer runs first.
    settled: async () => void (await Promise.allSettled(looks)),
  };
}

/** The (SQLite) database, with a change watch of its own whose looks the test can count and wait for. */
export function withWatchedLooks(db: Database, withinMs: number): { db: Database; looks: WatchedLooks } {
  const looks = watchLooks(db);
  const watch = new DataVersionWatch(looks, withinMs);
  return { db: { ...db, changes: () => watch }, looks };
}
