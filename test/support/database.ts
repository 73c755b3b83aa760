// A fresh, empty database for one test (or one lab), on the engine the run is for: a SQLite file in
// a temp folder by default, or, with LAB_TEST_DATABASE_URL=postgres://…, a schema of its own in
// that PostgreSQL database (CI runs every suite both ways). Repository and app tests take their
// database from here; tests of one engine's own behaviour open that engine directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseOptions } from '../../server/db/database.ts';

export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  /** What DATABASE_PATH or DATABASE_URL would say for it. */
  target: string;
  /** For PostgreSQL: the schema (DATABASE_SCHEMA). */
  schema: string | null;
  /** A new connection to it (another "process" of the lab, as far as change watching goes). */
  open(options?: DatabaseOptions): Promise<Database>;
  /** The environment a child process of the lab needs to use it. */
  env: Record<string, string>;
  /** Removes it (the file and its folder, or the schema). */
  drop(): Promise<void>;
}

/** The PostgreSQL server every suite of this run uses, if the run is for PostgreSQL. */
export const testPostgresUrl = process.env.LAB_TEST_DATABASE_URL || null;

export async function freshDatabase(name = 'lab'): Promise<TestDatabase> {
  if (testPostgresUrl) return freshSchema(testPostgresUrl);
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-db-'));
  const target = join(dir, `${name}.sqlite`);
  return {
    engine: 'sqlite',
    target,
    schema: null,
    open: (options) => openDatabase(target, options),
    env: { DATABASE_PATH: target },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new schema in the PostgreSQL database at `url`; the lab creates its tables on open. */
export async function freshSchema(url: string): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    engine: 'postgres',
    target: url,
    schema,
    open: (options) => openDatabase(url, { ...options, schema, poolSize: options?.poolSize ?? 4 }),
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
