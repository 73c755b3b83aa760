// What every part of the lab asks of a database, whichever engine answers: SQLite (a file, the
// embedded default) or PostgreSQL (a server several app instances share). Repositories write their
// SQL once, in the subset both engines read (see migrations.ts for the rules).
import type { Engine } from './dialect.ts';

export type Row = Record<string, unknown>;

/** Positional (`?`) parameters. */
export type Params = unknown[];

/** Tells per-process caches whether another instance may have changed what they hold. */
export interface Generations {
  /** Changes whenever another instance (or process) may have changed the watched rows. */
  generation(): Promise<number>;
  /**
   * PostgreSQL only (SQLite learns of changes only when it looks): resolves when another instance's
   * change to the watched tables arrives, or the listening connection is lost or regained.
   */
  changed?(): Promise<void>;
}

/** The tables whose changes by other instances per-process caches watch (see `changes`). */
export const WATCHED_TABLES = [
  'sandboxes',
  'sandbox_state',
  'exchanges',
  'lesson_sandboxes',
  'solved_tasks',
  'hints_shown',
  'progress_resets',
  'lesson_resets',
  'sandbox_predictions',
  'classes',
  'class_students',
  'check_failures',
  /** Only the lab's own sessions (namespace "site"): sandboxes' sessions are never cached. */
  'site_sessions',
] as const;
export type WatchedTable = (typeof WATCHED_TABLES)[number];

export interface Database {
  readonly engine: Engine;
  /** For statements that return no rows. */
  run(sql: string, params?: Params): Promise<{ changes: number }>;
  get<T extends Row>(sql: string, params?: Params): Promise<T | undefined>;
  all<T extends Row>(sql: string, params?: Params): Promise<T[]>;
  close(): Promise<void>;
  /**
   * Whether another instance has changed any of `tables` since a cache read them. SQLite knows only
   * "another connection committed something" (any table); PostgreSQL is told table by table.
   */
  changes(...tables: WatchedTable[]): Generations;
}

export class DatabaseError extends Error {}

/** A row that a UNIQUE or PRIMARY KEY constraint refused, in either engine's words. */
export function isUniqueViolation(err: unknown): boolean {
  const { code, message = '' } = err as { code?: string; message?: string };
  // PostgreSQL: SQLSTATE 23505. SQLite: SQLITE_CONSTRAINT, whose message names the kind.
  return code === '23505' || (code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test(message));
}

/**
 * The database server cannot be reached right now (refused, dropped, shutting down, or no
 * connection free in time): the request is answered 503 with a "try again" message, not a 500,
 * and nothing was written by it.
 */
export class DatabaseUnavailable extends Error {
  constructor(cause: Error, what = "the lab's database") {
    // The cause (an address, a server's words) goes to the log, not to the learner.
    super(`${what} is not answering right now; nothing you saved is lost: try again in a moment`, { cause });
  }
}

export interface DatabaseOptions {
  /** SQLite: how long a write waits for another connection's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** SQLite: how soon another process's commits show in this process's caches (see data-version.ts). */
  otherWritesWithinMs?: number;
  /** PostgreSQL: the schema that holds the lab's tables (default "public"); created if missing. */
  schema?: string;
  /** PostgreSQL: connections in the pool. */
  poolSize?: number;
}

/** Is this a PostgreSQL connection URL (DATABASE_URL), rather than a SQLite file's path? */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** What to call the database in a log line: a file's path, or a server's URL without its password. */
export function describeDatabase(target: string): string {
  return isPostgresUrl(target) ? withoutPassword(target, 'DATABASE_URL') : target;
}

/** A server's URL as it may be logged: its password replaced (`fallback` when it does not parse). */
export function withoutPassword(target: string, fallback: string): string {
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return fallback;
  }
}
