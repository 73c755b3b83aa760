// The database wrapper reuses prepared statements. What that must not change: answers under
// concurrency, errors that name the problem, a clean close, and (most easily broken) that a read
// leaves no read snapshot open, which in WAL mode would make this connection's next write fail
// with SQLITE_BUSY once another process has written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../server/db/database.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cookie-lab-db-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withDatabase(name: string, use: (db: Database) => Promise<void>, busyTimeoutMs?: number): Promise<void> {
  const db = await openDatabase(join(dir, name), { busyTimeoutMs });
  try {
    await use(db);
  } finally {
    await db.close();
  }
}

describe('database', () => {
  it('answers 200 concurrent reads and writes of the same statements correctly', async () => {
    await withDatabase('concurrent.sqlite', async (db) => {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', [`s${i}`, `{"n":${i}}`, i, i])),
      );
      const rows = await Promise.all(Array.from({ length: 100 }, (_, i) => db.get<{ options: string }>('SELECT options FROM sandboxes WHERE id = ?', [`s${i}`])));
      rows.forEach((row, i) => assert.equal(row?.options, `{"n":${i}}`));
      const all = await db.all<{ id: string }>('SELECT id FROM sandboxes ORDER BY created_at');
      assert.equal(all.length, 100);
    });
  });

  it('several processes starting at once on a new file each open it, and the schema is made once', async () => {
    // App processes started together (a process manager, or two ports) race to migrate. Each
    // connection here is its own SQLite connection, as another process's would be.
    const path = join(dir, 'started-together.sqlite');
    const dbs = await Promise.all(Array.from({ length: 4 }, () => openDatabase(path)));
    try {
      const [first] = dbs;
      await first!.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', ['shared', '{}', 1, 1]);
      for (const db of dbs) assert.equal((await db.get<{ id: string }>('SELECT id FROM sandboxes'))?.id, 'shared');
      const version = await first!.get<{ user_version: number }>('PRAGMA user_version');
      assert.ok(version!.user_version > 0);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('get answers undefined for no row, and the first row of several', async () => {
    await withDatabase('get.sqlite', async (db) => {
      assert.equal(await db.get('SELECT id FROM sandboxes WHERE id = ?', ['none']), undefined);
      for (const id of ['a', 'b']) await db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', [id, '{}']);
      assert.deepEqual(await db.get('SELECT id FROM sandboxes ORDER BY id'), { id: 'a' });
    });
  });

  it('run reports how many rows changed', async () => {
    await withDatabase('changes.sqlite', async (db) => {
      for (const id of ['a', 'b', 'c']) await db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', [id, '{}']);
      assert.deepEqual(await db.run('UPDATE sandboxes SET updated_at = 1 WHERE id != ?', ['a']), { changes: 2 });
      assert.deepEqual(await db.run('DELETE FROM sandboxes WHERE id = ?', ['none']), { changes: 0 });
    });
  });

  it('a bad statement fails with SQLite\'s message every time, and the connection keeps working', async () => {
    await withDatabase('bad.sqlite', async (db) => {
      for (let i = 0; i < 2; i++) await assert.rejects(db.get('SELECT nope FROM sandboxes'), /no such column: nope/);
      await assert.rejects(db.run('INSERT INTO sandboxes (id) VALUES (?)', ['x']), /NOT NULL constraint failed/);
      assert.deepEqual(await db.get('SELECT count(*) AS n FROM sandboxes'), { n: 0 });
    });
  });

  it('closes cleanly after statements were used and reused', async () => {
    const db = await openDatabase(join(dir, 'close.sqlite'));
    await Promise.all(Array.from({ length: 50 }, () => db.get('SELECT count(*) AS n FROM sessions')));
    await db.close();
    await assert.rejects(db.get('SELECT 1'));
  });

  it('closing while queries are in flight waits for them, then closes (no unfinalized statements)', async () => {
    const db = await openDatabase(join(dir, 'close-busy.sqlite'));
    const inFlight = Array.from({ length: 20 }, (_, i) => db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', [`c${i}`, '{}']));
    const reads = Array.from({ length: 20 }, () => db.get('SELECT count(*) AS n FROM sandboxes'));
    await db.close();
    assert.equal((await Promise.all(inFlight)).length, 20);
    assert.equal((await Promise.all(reads)).length, 20);
    await assert.rejects(db.get('SELECT 1'), /closed/);
  });

  it('a query sent while the connection is closing is refused, and the close still succeeds', async () => {
    const db = await openDatabase(join(dir, 'close-late.sqlite'));
    await db.get('SELECT count(*) AS n FROM sessions');
    const closing = db.close();
    const late = db.get('SELECT count(*) AS n FROM sandboxes').then(() => null, (err: Error) => err);
    await closing;
    assert.match((await late)?.message ?? 'answered', /closed/);
  });

  it('a write that failed on a lock leaves nothing open: the next writes commit, and another connection sees them', async () => {
    const path = 'locked.sqlite';
    await withDatabase(path, async (first) => {
      await withDatabase(path, async (other) => {
        await other.run('BEGIN IMMEDIATE');
        await assert.rejects(first.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', ['blocked', '{}']), /SQLITE_BUSY/);
        await other.run('COMMIT');
        await first.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', ['after', '{}']);
        // Committed: the other connection sees it and can write itself.
        assert.deepEqual(await other.all('SELECT id FROM sandboxes'), [{ id: 'after' }]);
        await other.run('UPDATE sandboxes SET updated_at = 1 WHERE id = ?', ['after']);
      });
    }, 50);
  });

  it('a read leaves no snapshot open: this connection can write after another one has', async () => {
    const path = 'two-writers.sqlite';
    // No busy timeout and so no waiting: a held snapshot would fail at once (and the retry of
    // quick SQLITE_BUSY answers would give up after its budget).
    await withDatabase(path, async (first) => {
      await withDatabase(path, async (second) => {
        await first.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', ['a', '{}']);
        // Reads of every kind, on a table with more rows than one, so a stepped-once statement would stay open.
        await first.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', ['b', '{}']);
        await first.get('SELECT id FROM sandboxes ORDER BY id');
        await first.all('SELECT id FROM sandboxes');
        // A checkpoint that must reset the WAL cannot while any connection still reads from it:
        // busy 0 says no read is left open, without timing anything.
        assert.deepEqual(await second.all('PRAGMA wal_checkpoint(TRUNCATE)'), [{ busy: 0, log: 0, checkpointed: 0 }], 'a read snapshot was held');
        await second.run('UPDATE sandboxes SET updated_at = 2 WHERE id = ?', ['a']);
        // A held snapshot would make this write fail (SQLITE_BUSY_SNAPSHOT, retried until it gives up).
        await first.run('UPDATE sandboxes SET updated_at = 3 WHERE id = ?', ['b']);
        assert.deepEqual(await second.all('SELECT id, updated_at FROM sandboxes ORDER BY id'), [
          { id: 'a', updated_at: 2 },
          { id: 'b', updated_at: 3 },
        ]);
      }, 0);
    }, 0);
  });
});
