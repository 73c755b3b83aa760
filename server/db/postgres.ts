// The PostgreSQL engine (pg): a pool of connections to a server that several app instances share,
// the lab's tables in one schema, and a dedicated connection that LISTENs for the changes other
// instances commit (notifications.ts), so each instance's caches stay true.
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { DatabaseError, DatabaseUnavailable, describeDatabase, type Database, type DatabaseOptions, type Params, type Row, type WatchedTable } from './connection.ts';
import { forEngine } from './dialect.ts';
import { migrations } from './migrations.ts';
import { ChangeListener, installChangeTriggers } from './notifications.ts';

/** A schema name we put into SQL unquoted: plain lower-case letters, digits and _. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Milliseconds since the epoch are BIGINT in PostgreSQL, which pg hands back as a string (it may
 * exceed 2^53). Ours never do: read them, and count(*), as numbers, for this pool only.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export async function openPostgres(url: string, { schema = 'public', poolSize = 10 }: DatabaseOptions = {}): Promise<Database> {
  if (!SCHEMA_NAME.test(schema)) throw new DatabaseError(`the schema name "${schema}" must be lower-case letters, digits and _`);
  // Every connection of this instance carries its name: the change triggers put it into each
  // notification, so an instance can tell its own commits from another's.
  const instance = `cookie-lab ${randomBytes(6).toString('hex')}`;
  // pg lets a URL's own parameters override these, which would put the tables in another schema or
  // blur which notifications are this instance's own: refuse such a URL rather than obey it.
  const overridden = ['options', 'application_name'].filter((name) => new URL(url).searchParams.has(name));
  if (overridden.length) throw new DatabaseError(`DATABASE_URL must not set ${overridden.join(' or ')}: the lab sets them itself (the schema is DATABASE_SCHEMA)`);
  // keepAlive: a connection that a firewall or a failover drops silently is noticed, not trusted forever.
  const config = { connectionString: url, application_name: instance, options: `-c search_path=${schema}`, types, keepAlive: true };
  const pool = new pg.Pool({ ...config, max: poolSize, connectionTimeoutMillis: 2000 });
  // An idle connection that the server drops (a restart, a failover) must not end the process:
  // the pool discards it and opens another on the next query.
  pool.on('error', (err) => console.error(`PostgreSQL: an idle connection failed (${err.message}); the pool replaces it`));
  const channel = `cookie_lab_${schema}`;
  try {
    await migrate(pool, schema, channel);
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DatabaseError(`cannot use PostgreSQL at ${describeDatabase(url)}: ${(err as Error).message}`);
  }
  const listener = new ChangeListener(config, channel, instance);
  try {
    await listener.start();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DatabaseError(`cannot listen for other instances' changes on PostgreSQL at ${describeDatabase(url)}: ${(err as Error).message}`);
  }

  const query = async <T extends Row>(sql: string, params: Params) => {
    try {
      return await pool.query<T>(numbered(sql), params);
    } catch (err) {
      throw unreachable(err) ? new DatabaseUnavailable(err as Error) : err;
    }
  };
  const all = async <T extends Row>(sql: string, params: Params = []): Promise<T[]> => (await query<T>(sql, params)).rows;
  return {
    engine: 'postgres',
    run: async (sql, params = []) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
    get: async <T extends Row>(sql: string, params: Params = []): Promise<T | undefined> => (await all<T>(sql, params))[0],
    all,
    close: async () => {
      await listener.stop();
      await pool.end();
    },
    changes: (...tables: WatchedTable[]) => listener.watch(tables),
  };
}

/**
 * Brings the schema up to date, once whichever instance gets there first: the others wait on an
 * advisory lock, then find the work done. DDL is transactional in PostgreSQL, so a failed step
 * leaves the schema as it was.
 */
async function migrate(pool: pg.Pool, schema: string, channel: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      // The lock first: two instances creating a new schema at once would otherwise race in
      // CREATE SCHEMA IF NOT EXISTS itself (a unique violation in pg_namespace).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cookie-lab migrations ${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query('CREATE TABLE IF NOT EXISTS lab_schema_version (version INTEGER NOT NULL)');
      const row = (await client.query<{ version: number }>('SELECT version FROM lab_schema_version')).rows[0];
      if (!row) await client.query('INSERT INTO lab_schema_version (version) VALUES (0)');
      for (let next = row?.version ?? 0; next < migrations.length; next++) {
        for (const statement of forEngine('postgres', migrations[next]!)) await client.query(statement);
        await client.query('UPDATE lab_schema_version SET version = $1', [next + 1]);
      }
      await installChangeTriggers(client, channel);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

/** Network errors, and PostgreSQL's classes 08 (connection exception) and 57P (operator intervention: shut down, restarting). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function unreachable(err: unknown): boolean {
  const { code, message = '' } = err as { code?: string; message?: string };
  if (code && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  // pg's own errors for a connection that ended or could not be had from the pool in time carry no code.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i.test(message);
}

const numberedCache = new Map<string, string>();

/**
 * Our SQL's `?` placeholders as PostgreSQL's `$1, $2, …`. Quoted text is left alone (none of our
 * statements has a `?` inside quotes, but a JSON path or a literal may one day).
 */
export function numbered(sql: string): string {
  let out = numberedCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (token) => (token === '?' ? `$${++n}` : token));
    // Only SQL written in this code base comes here, never input: the set of strings is small.
    numberedCache.set(sql, out);
  }
  return out;
}
