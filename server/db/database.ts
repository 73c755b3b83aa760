// Opens the lab's database: a SQLite file (the embedded default) or a PostgreSQL server
// (DATABASE_URL), each engine in a module of its own, loaded only when it is used.
import { isPostgresUrl, type Database, type DatabaseOptions } from './connection.ts';

export type { Database, DatabaseOptions, Generations, Params, Row, WatchedTable } from './connection.ts';
export { DatabaseError, WATCHED_TABLES, describeDatabase, isPostgresUrl } from './connection.ts';

/**
 * Opens the database at `target` (a SQLite file's path, or a postgres:// URL), bringing its schema
 * up to date. Throws DatabaseError naming what is wrong.
 */
export async function openDatabase(target: string, options: DatabaseOptions = {}): Promise<Database> {
  if (isPostgresUrl(target)) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(target, options);
  }
  const { openSqlite } = await import('./sqlite.ts');
  return openSqlite(target, options);
}
