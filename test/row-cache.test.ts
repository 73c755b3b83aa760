// RowCache: what a per-process read cache must never do is serve a value after another process may
// have changed it (a new OtherWriters generation), or keep a read that raced with this process's
// own write.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RowCache } from '../server/db/row-cache.ts';

/** A "database" that counts its reads and answers with its current value. */
function source(initial: string) {
  const state = { value: initial, reads: 0 };
  return { state, read: async () => (state.reads++, state.value) };
}

/** Stands in for OtherWriters: `changedElsewhere()` is another process's commit, seen. */
function otherWriters() {
  let generation = 1;
  return { generation: async () => generation, changedElsewhere: () => void generation++ };
}

describe('RowCache', () => {
  it('answers again from memory while no other process has written', async () => {
    const cache = new RowCache<string>(otherWriters());
    const db = source('a');
    assert.equal(await cache.get('k', db.read), 'a');
    for (let i = 0; i < 5; i++) assert.equal(await cache.get('k', db.read), 'a');
    assert.equal(db.state.reads, 1);
  });

  it('reads again once another process has written', async () => {
    const writers = otherWriters();
    const cache = new RowCache<string>(writers);
    const db = source('a');
    await cache.get('k', db.read);
    db.state.value = 'b';
    writers.changedElsewhere();
    assert.equal(await cache.get('k', db.read), 'b');
    assert.equal(await cache.get('k', db.read), 'b');
    assert.equal(db.state.reads, 2);
  });

  it('a read that began before a write elsewhere was seen is read again after', async () => {
    const writers = otherWriters();
    const cache = new RowCache<string>(writers);
    let release!: () => void;
    const slowRead = cache.get('k', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return 'maybe older than the write';
    });
    await new Promise((resolve) => setImmediate(resolve));
    writers.changedElsewhere();
    release();
    assert.equal(await slowRead, 'maybe older than the write');
    assert.equal(await cache.get('k', async () => 'after'), 'after');
  });

  it('keeps keys apart', async () => {
    const cache = new RowCache<string>(otherWriters());
    assert.equal(await cache.get('one', async () => '1'), '1');
    assert.equal(await cache.get('two', async () => '2'), '2');
    assert.equal(await cache.get('one', async () => 'not read'), '1');
  });

  it('after invalidate, the next read goes to the source', async () => {
    const cache = new RowCache<string>(otherWriters());
    const db = source('a');
    await cache.get('k', db.read);
    db.state.value = 'b';
    cache.invalidate('k');
    assert.equal(await cache.get('k', db.read), 'b');
  });

  it('invalidate without a key forgets everything', async () => {
    const cache = new RowCache<string>(otherWriters());
    const db = source('a');
    await cache.get('x', db.read);
    await cache.get('y', db.read);
    db.state.value = 'b';
    cache.invalidate();
    assert.equal(await cache.get('x', db.read), 'b');
    assert.equal(await cache.get('y', db.read), 'b');
  });

  it('writing invalidates before and after the write', async () => {
    const cache = new RowCache<string>(otherWriters());
    const db = source('a');
    await cache.get('k', db.read);
    const result = await cache.writing('k', async () => {
      db.state.value = 'b';
      return 'written';
    });
    assert.equal(result, 'written');
    assert.equal(await cache.get('k', db.read), 'b');
  });

  it('does not keep a read that overlapped an invalidation (it may predate the write)', async () => {
    const cache = new RowCache<string>(otherWriters());
    let release!: () => void;
    const slowRead = cache.get('k', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return 'old';
    });
    await new Promise((resolve) => setImmediate(resolve));
    cache.invalidate('k'); // a write happened while the read was in flight
    release();
    assert.equal(await slowRead, 'old');
    assert.equal(await cache.get('k', async () => 'new'), 'new');
  });

  it('a failed read is not kept and the error reaches the caller', async () => {
    const cache = new RowCache<string>(otherWriters());
    await assert.rejects(cache.get('k', async () => Promise.reject(new Error('disk gone'))), /disk gone/);
    assert.equal(await cache.get('k', async () => 'back'), 'back');
  });

  it('when it cannot learn whether another process wrote, it serves nothing from memory', async () => {
    const cache = new RowCache<string>({ generation: async () => Promise.reject(new Error('database locked')) });
    await assert.rejects(cache.get('k', async () => 'never read'), /database locked/);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new RowCache<string>(otherWriters(), 2);
    const db = source('v');
    await cache.get('a', db.read);
    await cache.get('b', db.read);
    await cache.get('c', db.read);
    assert.equal(db.state.reads, 3);
    await cache.get('c', db.read);
    await cache.get('b', db.read);
    assert.equal(db.state.reads, 3, 'the two newest are kept');
    await cache.get('a', db.read);
    assert.equal(db.state.reads, 4, 'the oldest was dropped');
  });
});
