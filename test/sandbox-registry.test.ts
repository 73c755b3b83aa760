// The registry's view of a sandbox's options when another process shares the database: it looks
// again at most every recheck interval (in the background past three quarters of it), never serves options
// older than the interval, and a look that raced with this process's own change never undoes it.
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as settle } from 'node:timers/promises';
import { openDatabase, type Database } from '../server/database.ts';
import { SandboxRegistry } from '../server/sandbox-registry.ts';
import { articleOptions } from '../server/sandbox-options.ts';

let dir: string;
let db: Database;
let otherProcess: Database;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cookie-lab-registry-'));
  db = await openDatabase(join(dir, 'lab.sqlite'));
  otherProcess = await openDatabase(join(dir, 'lab.sqlite'));
});
after(async () => {
  await db.close();
  await otherProcess.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Another process's options change, as its registry writes it. */
async function changeElsewhere(id: string, name: string): Promise<void> {
  await otherProcess.run('UPDATE sandboxes SET options = ?, updated_at = updated_at + 1000 WHERE id = ?', [JSON.stringify({ ...articleOptions, name }), id]);
}

describe('SandboxRegistry and other processes', () => {
  // The registry's clock (Date) is moved by hand, so ages are exact on a loaded machine; database
  // reads are real, and real timers give background looks time to finish.
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.now() }));
  afterEach(() => mock.timers.reset());
  const age = (ms: number) => mock.timers.tick(ms);

  it('picks up another process\'s change in the background past three quarters of the interval, and serves it next', async () => {
    const registry = new SandboxRegistry(db, { recheckOptionsMs: 200 });
    const sandbox = await registry.create(articleOptions);
    await changeElsewhere(sandbox.id, 'elsewhere');
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'fresh: no query');
    age(140);
    await registry.find(sandbox.id);
    await settle(100);
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'looked again before three quarters of the interval');
    age(20);
    assert.equal((await registry.find(sandbox.id))?.options.name, articleOptions.name, 'served at once while it looks');
    await settle(100);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'elsewhere');
  });

  it('past the whole interval, waits for the look: never serves older options', async () => {
    const registry = new SandboxRegistry(db, { recheckOptionsMs: 50 });
    const sandbox = await registry.create(articleOptions);
    await changeElsewhere(sandbox.id, 'late');
    age(70);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'late');
  });

  it('a look that read the row before this process changed the options does not undo the change', async () => {
    let gate: Promise<void> | null = null;
    // The registry's database, with its option reads held back after they have read.
    const slowReads: Database = {
      ...db,
      get: async (sql, params) => {
        const row = await db.get(sql, params);
        if (gate && sql.startsWith('SELECT options')) await gate;
        return row as never;
      },
    };
    const registry = new SandboxRegistry(slowReads, { recheckOptionsMs: 200 });
    const sandbox = await registry.create(articleOptions);
    age(160);
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    await registry.find(sandbox.id); // starts a background look, which reads the old row and waits
    await settle(50);
    await registry.updateOptions(sandbox, { ...articleOptions, name: 'mine' });
    release();
    await settle(50);
    assert.equal(sandbox.options.name, 'mine');
    assert.equal((await registry.find(sandbox.id))?.options.name, 'mine');
  });

  it('adopts another process\'s change even when its row\'s time is behind this process\'s', async () => {
    const registry = new SandboxRegistry(db, { recheckOptionsMs: 50 });
    const sandbox = await registry.create(articleOptions);
    // Another process whose clock is behind (or that wrote in the same millisecond).
    await otherProcess.run('UPDATE sandboxes SET options = ?, updated_at = updated_at - 5 WHERE id = ?', [JSON.stringify({ ...articleOptions, name: 'behind' }), sandbox.id]);
    age(70);
    assert.equal((await registry.find(sandbox.id))?.options.name, 'behind');
  });

  it('options changed through two processes in turn keep a row time that only grows', async () => {
    const here = new SandboxRegistry(db, { recheckOptionsMs: 10_000 });
    const there = new SandboxRegistry(otherProcess, { recheckOptionsMs: 10_000 });
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
    const registry = new SandboxRegistry(db, { recheckOptionsMs: 50 });
    const sandbox = await registry.create(articleOptions);
    await otherProcess.run('DELETE FROM sandboxes WHERE id = ?', [sandbox.id]);
    age(70);
    assert.equal(await registry.find(sandbox.id), null);
  });
});
