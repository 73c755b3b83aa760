// The few things SQLite and PostgreSQL spell differently, in one place: everything else the lab
// says to a database is written once, in SQL both read (the rules are in migrations.ts).

export type Engine = 'sqlite' | 'postgres';

/**
 * A migration as `engine` reads it, split into statements. PostgreSQL's INTEGER is 32 bits (our
 * millisecond times need BIGINT, which SQLite spells INTEGER), and WITHOUT ROWID is SQLite's
 * storage choice alone.
 */
export function forEngine(engine: Engine, migration: string): string[] {
  const sql = engine === 'postgres' ? migration.replace(/\bINTEGER\b/g, 'BIGINT').replace(/\s+WITHOUT ROWID/g, '') : migration;
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The stored session (the `sess` column, JSON text) with its `cookie` replaced by the JSON given
 * as the statement's next parameter, in one statement: a touch refreshes the expiry without
 * writing back data another request may have changed meanwhile. (PostgreSQL's jsonb stores keys
 * in its own order; the session reads the same.)
 */
export function sessionWithCookie(engine: Engine): string {
  return engine === 'postgres' ? `(jsonb_set(sess::jsonb, '{cookie}', ?::jsonb))::text` : `json_set(sess, '$.cookie', json(?))`;
}
