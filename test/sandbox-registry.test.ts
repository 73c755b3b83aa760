// The registry's view of a sandbox's options when another process shares the database: it reads
// them again only after another connection has committed (which it learns within a second, in the
// background past three quarters of it), never serves options older than that, and a read that
// raced with this process's own change never undoes it.
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../server/db/database.ts';
import { SandboxRegistry } from '../server/sandbox/registry.ts';
import { articleOptions } from '../server/sandbox/options.ts';
import { withWatchedLooks } from './support/looks.ts';

let dir: string;
let otherProcess: Database;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cookie-lab-registry-'));
  otherProcess = await openDatabase(join(dir, 'lab.sqlite'));
});
after(async () => {
  await otherProcess.close();
  rmSync(dir, { recursive: true, force: true });
});

/** This process's connection: its own each test, so what it has seen of other writers starts afresh. */
const opened: Database[] = [];
async function thisProcess(otherWritesWithinMs = 200): Promise<Database> {
  const db = await openDatabase(join(dir, 'lab.sqlite'), { otherWritesWithinMs });
  opened.push(db);
  return db;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});

/** The database, counting the option reads it is sent. */
function countingOptionReads(db: Database): { db: Database; reads: () => number } {
  let reads = 0;
  return {
    db: { ...db, get: (sql, params) => (sql.startsWith('SELECT options') && reads++, db.get(sql, params)) },
    reads: () => reads,
  };
}

/** Another process's options change, as its registry writes it. */
async function changeElsewhere(id: string, name: string): Promise<void> {
  await otherProcess.run('UPDATE sandboxes SET options = ?, updated_at = updated_at + 1000 WHERE id = ?', [JSON.stringify({ ...articleOptions, name }), id]);
}

describe('SandboxRegistry and other processes', () => {
  // The registry's clock (Date) is moved by hand, so ages are exact on a loaded machine; database
  // reads are real, and a test waits for the background looks it caused (withWatchedLooks).
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.now() }));
  afterEach(() => mock.timers.reset());
  const age = (ms: number) => mock.timers.tick(ms);

  it('with no other process writing, a live sandbox\'s options are never read again', async () => {
    const watched = withWatchedLooks(await thisProcess(), 200);
    const { db, reads } = countingOptionReads(watched.db);
    const registry = new SandboxRegistry(db);
    const sandbox = await registry.create(articleOptions);
    for (let i = 0; i < 20; i++) {
      age(150);
      assert.equal(await registry.find(sandbox.id), sandbox);
      await watched.looks.settled();
    }
    assert.ok(watched.looks.count() > 20, 'the registry kept looking for other processes\' commits');
    // This process's own writes are not another process's: they change nothing either.
    await registry.updateOptions(sandbox, { ...articleOptions, name: 'mine' });
    age(250);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'mine');
    assert.equal(reads(), 0);
  });

  it('picks up another process\'s change once it looks (in the background past three quarters of the interval), and serves it next', async () => {
    const { db, looks } = withWatchedLooks(await thisProcess(200), 200);
    const registry = new SandboxRegistry(db);
    const sandbox = await registry.create(articleOptions);
    const looked = looks.count();
    await changeElsewhere(sandbox.id, 'elsewhere');
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'looked moments ago: no query');
    age(140);
    await registry.find(sandbox.id);
    await looks.settled();
    assert.equal(looks.count(), looked, 'looked again before three quarters of the interval');
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'looked again before three quarters of the interval');
    age(20);
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'served at once while it looks');
    assert.equal(looks.count(), looked + 1, 'one look, in the background');
    await looks.settled();
    assert.equal((await registry.find(sandbox.id))?.options.name, 'elsewhere');
  });

  it('past the whole interval, waits for the look: never serves older options', async () => {
    const registry = new SandboxRegistry(await thisProcess(50));
    const sandbox = await registry.create(articleOptions);
    await changeElsewhere(sandbox.id, 'late');
    age(70);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'late');
  });

  it('a read that began before this process changed the options does not undo the change', async () => {
    const db = await thisProcess(50);
    let gate: Promise<void> | null = null;
    let heldBack = 0;
    let reachedGate!: () => void;
    const atGate = new Promise<void>((resolve) => (reachedGate = resolve));
    // The registry's database, with its option reads held back after they have read.
    const slowReads: Database = {
      ...db,
      get: async (sql, params) => {
        const row = await db.get(sql, params);
        if (gate && sql.startsWith('SELECT options')) {
          heldBack++;
          reachedGate();
          await gate;
        }
        return row as never;
      },
    };
    const registry = new SandboxRegistry(slowReads);
    const sandbox = await registry.create(articleOptions);
    // Any commit elsewhere makes the registry read again; this one does not touch the sandbox.
    await otherProcess.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', [`other${Date.now()}`, '{}']);
    age(70);
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const finding = registry.find(sandbox.id); // reads the old row again, and waits
    await atGate;
    await registry.updateOptions(sandbox, { ...articleOptions, name: 'mine' });
    release();
    await finding;
    assert.equal(heldBack, 1, 'the commit elsewhere made it read the options again');
    assert.equal(sandbox.options.name, 'mine');
    assert.equal((await registry.find(sandbox.id))?.options.name, 'mine');
  });

  it('a failed read is reported, and the next request reads again', async () => {
    const db = await thisProcess(50);
    let failing = false;
    const flaky: Database = {
      ...db,
      get: (sql, params) => (failing && sql.startsWith('SELECT options') ? Promise.reject(new Error('disk gone')) : db.get(sql, params)),
    };
    const registry = new SandboxRegistry(flaky);
    const sandbox = await registry.create(articleOptions);
    await changeElsewhere(sandbox.id, 'elsewhere');
    age(70);
    failing = true;
    await assert.rejects(registry.find(sandbox.id), /disk gone/);
    failing = false;
    assert.equal((await registry.find(sandbox.id))?.options.name, 'elsewhere');
  });

  it('adopts another process\'s change even when its row\'s time is behind this process\'s', async () => {
    const registry = new SandboxRegistry(await thisProcess(50));
    const sandbox = await registry.create(articleOptions);
    // Another process whose clock is behind (or that wrote in the same millisecond).
    await otherProcess.run('UPDATE sandboxes SET options = ?, updated_at = updated_at - 5 WHERE id = ?', [JSON.stringify({ ...articleOptions, name: 'behind' }), sandbox.id]);
    age(70);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'behind');
  });

  it('options changed through two processes in turn keep a row time that only grows', async () => {
    const here = new SandboxRegistry(await thisProcess());
    const there = new SandboxRegistry(otherProcess);
    const sandbox = await here.create(articleOptions);
    const elsewhere = (await there.find(sandbox.id))!;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      await here.updateOptions(sandbox, { ...articleOptions, name: `here${i}` });
      await there.updateOptions(elsewhere, { ...articleOptions, name: `there${i}` });
      times.push(sandbox.builtFrom, elsewhere.builtFrom);
    }
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(new Set(times).size, times.length, 'no two changes share a time');
  });

  it('a sandbox deleted elsewhere is gone once the interval has passed', async () => {
    const registry = new SandboxRegistry(await thisProcess(50));
    const sandbox = await registry.create(articleOptions);
    await otherProcess.run('DELETE FROM sandboxes WHERE id = ?', [sandbox.id]);
    age(70);
    assert.equal(await registry.find(sandbox.id), null);
  });
});
