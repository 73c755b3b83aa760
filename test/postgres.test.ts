// The PostgreSQL engine's own behaviour, on a throwaway server from Debian's packages: our `?`
// placeholders numbered, instances starting at once migrating a schema once, other instances'
// commits told table by table over LISTEN/NOTIFY (and its own never), the listening connection
// surviving a restart of the server, and an unreachable server named as such.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { numbered } from '../server/db/postgres.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import { DatabaseUnavailable } from '../server/db/connection.ts';
import { migrations } from '../server/db/migrations.ts';
import { missingServer, startPostgres, type PostgresServer } from './support/servers.ts';

describe('numbered(): our ? placeholders as $1, $2, …', () => {
  it('numbers each ? in order, and leaves a ? inside quotes alone', () => {
    assert.equal(numbered('SELECT a FROM t WHERE b = ? AND c IN (?, ?)'), 'SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)');
    assert.equal(numbered(`SELECT '?' || ? AS "odd?" FROM t WHERE x = 'it''s ?' AND y = ?`), `SELECT '?' || $1 AS "odd?" FROM t WHERE x = 'it''s ?' AND y = $2`);
    assert.equal(numbered('SELECT 1'), 'SELECT 1');
  });
});

describe('the PostgreSQL engine', { skip: missingServer('postgres') }, () => {
  let server: PostgresServer;
  const opened: Database[] = [];
  const open = async (schema: string) => {
    const db = await openDatabase(server.url, { schema, poolSize: 3 });
    opened.push(db);
    return db;
  };

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await Promise.all(opened.map((db) => db.close().catch(() => {})));
    await server.remove();
  });

  it('five instances opening a new schema at once create and migrate it once, to the latest version', async () => {
    // Several rounds: each a new schema that five instances race to create.
    for (const round of [1, 2, 3]) await Promise.all(Array.from({ length: 5 }, () => open(`race_${round}`)));
    const dbs = await Promise.all(Array.from({ length: 5 }, () => open('race_1')));
    const version = await dbs[0]!.get<{ version: number }>('SELECT version FROM lab_schema_version');
    assert.equal(version?.version, migrations.length);
    assert.equal((await dbs[1]!.all('SELECT version FROM lab_schema_version')).length, 1, 'one version row, not one per instance');
    // Every instance uses the same tables: a row written by one is read by another.
    await dbs[2]!.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', ['box', '{}', 1, 1]);
    assert.equal((await dbs[4]!.get<{ id: string }>('SELECT id FROM sandboxes WHERE id = ?', ['box']))?.id, 'box');
  });

  it("another instance's commit moves the generation of that table only, and an instance's own commit moves none of its own", async () => {
    const [writer, reader] = [await open('notify'), await open('notify')];
    const sandboxes = reader.changes('sandboxes');
    const progress = reader.changes('solved_tasks');
    const own = writer.changes('sandboxes');
    const [before, beforeProgress, beforeOwn] = [await sandboxes.generation(), await progress.generation(), await own.generation()];
    const arrived = sandboxes.changed!();
    await writer.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', ['n1', '{}', 1, 1]);
    await arrived;
    assert.notEqual(await sandboxes.generation(), before, 'the reader hears of the new sandbox');
    assert.equal(await progress.generation(), beforeProgress, 'a sandbox write says nothing about progress');
    // PostgreSQL delivers notifications in commit order: once the writer hears of a later commit
    // by the reader, its own earlier one has reached it too, and must have counted for nothing.
    const heard = own.changed!();
    await reader.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', ['n2', '{}', 1, 1]);
    await heard;
    assert.equal(await own.generation(), beforeOwn + 1, "only the other instance's commit counts: the writer's caches were updated as it wrote");
  });

  it('a restart of the server: the listener reconnects, every cache counts as stale meanwhile, and notifications flow again', async () => {
    const [writer, reader] = [await open('restart'), await open('restart')];
    const watched = reader.changes('sandboxes');
    const before = await watched.generation();
    const lost = watched.changed!();
    await server.kill();
    await lost;
    assert.notEqual(await watched.generation(), before, 'while disconnected nothing counts as current');
    await assert.rejects(writer.get('SELECT 1'), DatabaseUnavailable);
    const regained = watched.changed!();
    await server.start();
    await regained;
    // The pool replaces its dead connections on the next query; the listener is back.
    const stale = await watched.generation();
    const arrived = watched.changed!();
    await writer.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', ['after', '{}', 1, 1]);
    await arrived;
    assert.notEqual(await watched.generation(), stale);
  });

  it('a DATABASE_URL that sets options or application_name (which would move the tables or blur whose notifications are whose) is refused', async () => {
    for (const param of ['options=-c%20search_path%3Delsewhere', 'application_name=mine']) {
      await assert.rejects(openDatabase(`${server.url}?${param}`, { schema: 'refused' }), /DATABASE_URL must not set (options|application_name)/);
    }
  });

  it('an unreachable server at start-up is a DatabaseError naming the address without its password', async () => {
    const url = new URL(server.url);
    url.port = '1';
    url.password = 'hunter2';
    await assert.rejects(openDatabase(url.toString(), { schema: 'nowhere' }), (err: Error) => {
      assert.match(err.message, /cannot use PostgreSQL at postgres:\/\/lab:\*\*\*@127\.0\.0\.1:1\/postgres/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });
});
