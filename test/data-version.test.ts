// DataVersionWatch: one query (PRAGMA data_version) tells this process whether another process has
// committed to the shared database file. It must see every commit made elsewhere within withinMs,
// never mistake this connection's own commits for one, and cost one query per interval at most.
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../server/db/database.ts';
import { DataVersionWatch } from '../server/db/data-version.ts';
import { watchLooks } from './support/looks.ts';

let dir: string;
let here: Database;
let elsewhere: Database;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cookie-lab-writers-'));
  here = await openDatabase(join(dir, 'lab.sqlite'));
  elsewhere = await openDatabase(join(dir, 'lab.sqlite'));
});
after(async () => {
  await here.close();
  await elsewhere.close();
  rmSync(dir, { recursive: true, force: true });
});

// The clock (Date) is moved by hand; queries are real, and a test waits for the looks it started
// (watchLooks) rather than for time to pass.
beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.now() }));
afterEach(() => mock.timers.reset());
const age = (ms: number) => mock.timers.tick(ms);


let rows = 0;
const commit = (db: Database) => db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, 0, 0)', [`row${rows++}`, '{}']);

describe('DataVersionWatch', () => {
  it('looks once, then not again before three quarters of withinMs', async () => {
    const db = watchLooks(here);
    const writers = new DataVersionWatch(db, 200);
    const first = await writers.generation();
    age(140);
    for (let i = 0; i < 10; i++) assert.equal(await writers.generation(), first);
    await db.settled();
    assert.equal(db.count(), 1);
  });

  it('this connection\'s own commits leave the generation as it is', async () => {
    const writers = new DataVersionWatch(here, 200);
    const first = await writers.generation();
    await commit(here);
    age(250);
    assert.equal(await writers.generation(), first);
  });

  it('another connection\'s commit is seen in the background past three quarters of withinMs', async () => {
    const db = watchLooks(here);
    const writers = new DataVersionWatch(db, 200);
    const first = await writers.generation();
    await commit(elsewhere);
    age(160);
    assert.equal(await writers.generation(), first, 'answered at once while it looks');
    assert.equal(await writers.generation(), first);
    assert.equal(db.count(), 2, 'one background look, however many asked');
    await db.settled();
    assert.notEqual(await writers.generation(), first, 'the background look saw the commit');
    assert.equal(db.count(), 2);
  });

  it('past withinMs, waits for a look: a commit made elsewhere is never missed for longer', async () => {
    const writers = new DataVersionWatch(here, 200);
    const first = await writers.generation();
    await commit(elsewhere);
    age(250);
    const second = await writers.generation();
    assert.notEqual(second, first);
    age(250);
    assert.equal(await writers.generation(), second, 'and nothing more changed since');
  });

  it('a clock set back does not stop the looks, nor make every call look', async () => {
    const db = watchLooks(here);
    const writers = new DataVersionWatch(db, 200);
    const first = await writers.generation();
    mock.timers.setTime(Date.now() - 60_000);
    await commit(elsewhere);
    assert.notEqual(await writers.generation(), first, 'looked at once');
    const looks = db.count();
    for (let i = 0; i < 5; i++) await writers.generation();
    assert.equal(db.count(), looks);
  });

  it('past withinMs, does not settle for a slow background look that started too long ago', async () => {
    let versions = 1;
    let hang = false;
    const db = { get: async <T,>() => (hang ? new Promise<T>(() => {}) : ({ data_version: versions } as T)) };
    const writers = new DataVersionWatch(db, 200);
    const first = await writers.generation();
    age(160);
    hang = true;
    await writers.generation(); // starts a background look that never answers
    hang = false;
    versions = 2;
    age(400);
    assert.notEqual(await writers.generation(), first);
  });

  it('a failed background look changes nothing; past withinMs, the error reaches the caller', async () => {
    let fail = false;
    const db = watchLooks({ get: async <T,>() => (fail ? Promise.reject(new Error('disk gone')) : ({ data_version: 1 } as T)) });
    const writers = new DataVersionWatch(db, 200);
    const first = await writers.generation();
    age(160);
    fail = true;
    assert.equal(await writers.generation(), first);
    await db.settled(); // the background look has failed
    assert.equal(await writers.generation(), first, 'still recent enough');
    age(60);
    await assert.rejects(writers.generation(), /disk gone/);
    fail = false;
    assert.equal(await writers.generation(), first);
  });
});
