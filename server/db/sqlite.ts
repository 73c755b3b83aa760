// The SQLite engine (node-sqlite3): one connection to a file, in WAL mode with a busy timeout so
// several app processes may share the file; prepared statements kept and reused.
import sqlite3 from 'sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataVersionWatch } from './data-version.ts';
import { DatabaseError, type Database, type DatabaseOptions, type Params } from './connection.ts';
import { forEngine } from './dialect.ts';
import { migrations } from './migrations.ts';

export async function openSqlite(path: string, { busyTimeoutMs = 8000, otherWritesWithinMs = 1000 }: DatabaseOptions = {}): Promise<Database> {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new DatabaseError(`cannot create the database folder ${dirname(path)}: ${(err as Error).message}`);
    }
  }
  const raw = await new Promise<sqlite3.Database>((resolve, reject) => {
    const db = new sqlite3.Database(path, (err) => (err ? reject(new DatabaseError(`cannot open ${path}: ${err.message}`)) : resolve(db)));
  });
  const db = wrap(raw, busyTimeoutMs, otherWritesWithinMs);
  try {
    // Several app processes may share one file: WAL lets readers and a writer overlap, and the
    // busy timeout makes a writer wait for a lock instead of failing with SQLITE_BUSY.
    await db.get(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    await db.get('PRAGMA journal_mode = WAL');
    await db.run('PRAGMA synchronous = NORMAL');
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    throw new DatabaseError(`cannot use ${path}: ${(err as Error).message}`);
  }
  return db;
}

async function migrate(db: Database): Promise<void> {
  const version = async () => (await db.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
  if ((await version()) >= migrations.length) return;
  // Processes started together race here: take the write lock first, then read how far the file
  // has come, so each migration runs once and a second process finds it done.
  await db.run('BEGIN IMMEDIATE');
  try {
    for (let next = await version(); next < migrations.length; next++) {
      for (const statement of forEngine('sqlite', migrations[next]!)) await db.run(statement);
      await db.run(`PRAGMA user_version = ${next + 1}`);
    }
    await db.run('COMMIT');
  } catch (err) {
    await db.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * SQLITE_BUSY can come back at once, without waiting out the busy timeout: in WAL mode, when this
 * connection's read snapshot is older than another process's commit (SQLITE_BUSY_SNAPSHOT). Each
 * of our statements is its own transaction, so running it again is safe and is what SQLite advises.
 */
async function retryBusy<T>(attempt: () => Promise<T>, busyTimeoutMs: number): Promise<T> {
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    const tried = Date.now();
    try {
      return await attempt();
    } catch (err) {
      // A BUSY after waiting out the busy timeout is a real lock: report it, do not wait again.
      const quick = Date.now() - tried < busyTimeoutMs / 2;
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || !quick || Date.now() - started > BUSY_RETRY_BUDGET_MS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(tries * 5, 50) + Math.random() * 10));
    }
  }
}

/** How long quick SQLITE_BUSY answers are retried in all. */
const BUSY_RETRY_BUDGET_MS = 2000;

/**
 * node-sqlite3 prepares (and later finalizes) a fresh statement for every `db.get(sql)`: three trips
 * through libuv's thread pool (docs/performance.md has the cost). Our SQL is a fixed set of
 * strings, so prepared statements are kept and reused. One statement runs one call at a time (the
 * next waits for the main thread to hand it over), so each string has a few idle statements,
 * and a busy moment prepares more. Reads step to the end (`all`), never `get`: a statement left
 * on a row holds its read snapshot open, which in WAL mode makes this connection's later writes
 * fail with SQLITE_BUSY_SNAPSHOT once another process has written.
 */
class StatementPool {
  private readonly idle = new Map<string, sqlite3.Statement[]>();
  /** Calls between taking a statement and giving it back (or finalizing it). */
  private busy = 0;
  private readonly whenIdle: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly db: sqlite3.Database,
    private readonly idlePerSql = 32,
  ) {}

  /** Runs `use` with a statement for `sql` that nobody else is using. */
  async with<T>(sql: string, use: (statement: sqlite3.Statement) => Promise<T>): Promise<T> {
    if (this.closed) throw new DatabaseError('SQLITE_MISUSE: the database is closed');
    this.busy++;
    try {
      const statement = this.idle.get(sql)?.pop() ?? (await this.prepare(sql));
      let result: T;
      try {
        result = await use(statement);
      } catch (err) {
        // node-sqlite3 does not reset a statement that failed; one stopped by SQLITE_BUSY stays
        // active, and pooled it would keep this connection's later writes in an open transaction.
        await finalize(statement);
        throw err;
      }
      await this.release(sql, statement);
      return result;
    } finally {
      if (--this.busy === 0) for (const wake of this.whenIdle.splice(0)) wake();
    }
  }

  /** Statements must be finalized before the connection can close: waits for those in use. */
  async finalizeAll(): Promise<void> {
    this.closed = true;
    if (this.busy > 0) await new Promise<void>((resolve) => this.whenIdle.push(resolve));
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map(finalize));
  }

  private prepare(sql: string): Promise<sqlite3.Statement> {
    return new Promise((resolve, reject) => {
      const statement = this.db.prepare(sql, (err) => (err ? reject(err) : resolve(statement)));
    });
  }

  private async release(sql: string, statement: sqlite3.Statement): Promise<void> {
    let idle = this.idle.get(sql);
    // Only SQL written in this code base reaches here, never input: the set of strings is small.
    if (!idle) this.idle.set(sql, (idle = []));
    if (!this.closed && idle.length < this.idlePerSql) idle.push(statement);
    else await finalize(statement);
  }
}

function finalize(statement: sqlite3.Statement): Promise<void> {
  return new Promise((resolve) => statement.finalize(() => resolve()));
}

function wrap(db: sqlite3.Database, busyTimeoutMs: number, otherWritesWithinMs: number): Database {
  const statements = new StatementPool(db);
  const all = <T>(sql: string, params: Params): Promise<T[]> =>
    statements.with(sql, (statement) => new Promise((resolve, reject) => statement.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[])))));
  const get: Database['get'] = (sql, params = []) => retryBusy(async () => (await all<never>(sql, params))[0], busyTimeoutMs);
  // SQLite knows only that another connection committed, not what: every table shares one watch.
  const otherWriters = new DataVersionWatch({ get }, otherWritesWithinMs);
  return {
    engine: 'sqlite',
    run: (sql, params = []) =>
      retryBusy(
        () =>
          statements.with(
            sql,
            (statement) =>
              new Promise((resolve, reject) => {
                statement.run(params, function (this: sqlite3.RunResult, err: Error | null) {
                  if (err) reject(err);
                  else resolve({ changes: this.changes });
                });
              }),
          ),
        busyTimeoutMs,
      ),
    get,
    all: (sql, params = []) => retryBusy(() => all<never>(sql, params), busyTimeoutMs),
    close: async () => {
      await statements.finalizeAll();
      await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    },
    changes: () => otherWriters,
  };
}
