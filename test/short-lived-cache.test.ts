// ShortLivedCache: what a per-process read cache must never do is serve a value older than its
// lifetime, or keep a read that raced with this process's own write.
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as settle } from 'node:timers/promises';
import { ShortLivedCache } from '../server/short-lived-cache.ts';

// The cache's clock (Date) is moved by hand, so ages are exact on a loaded machine; promises and
// the real timers used to let background reads finish are not mocked.
beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.now() }));
afterEach(() => mock.timers.reset());
const age = (ms: number) => mock.timers.tick(ms);

/** A "database" that counts its reads and answers with its current value. */
function source(initial: string) {
  const state = { value: initial, reads: 0 };
  return { state, read: async () => (state.reads++, state.value) };
}

describe('ShortLivedCache', () => {
  it('answers a second read within its lifetime from memory', async () => {
    const cache = new ShortLivedCache<string>(1000);
    const db = source('a');
    assert.equal(await cache.get('k', db.read), 'a');
    db.state.value = 'changed elsewhere';
    assert.equal(await cache.get('k', db.read), 'a');
    assert.equal(db.state.reads, 1);
  });

  it('reads again once the lifetime has passed', async () => {
    const cache = new ShortLivedCache<string>(40);
    const db = source('a');
    await cache.get('k', db.read);
    db.state.value = 'b';
    age(60);
    assert.equal(await cache.get('k', db.read), 'b');
    assert.equal(db.state.reads, 2);
  });

  it('keeps keys apart', async () => {
    const cache = new ShortLivedCache<string>(1000);
    assert.equal(await cache.get('one', async () => '1'), '1');
    assert.equal(await cache.get('two', async () => '2'), '2');
    assert.equal(await cache.get('one', async () => 'not read'), '1');
  });

  it('after invalidate, the next read goes to the source', async () => {
    const cache = new ShortLivedCache<string>(1000);
    const db = source('a');
    await cache.get('k', db.read);
    db.state.value = 'b';
    cache.invalidate('k');
    assert.equal(await cache.get('k', db.read), 'b');
  });

  it('invalidate without a key forgets everything', async () => {
    const cache = new ShortLivedCache<string>(1000);
    const db = source('a');
    await cache.get('x', db.read);
    await cache.get('y', db.read);
    db.state.value = 'b';
    cache.invalidate();
    assert.equal(await cache.get('x', db.read), 'b');
    assert.equal(await cache.get('y', db.read), 'b');
  });

  it('does not keep a read that overlapped an invalidation (it may predate the write)', async () => {
    const cache = new ShortLivedCache<string>(1000);
    let release!: () => void;
    const slowRead = cache.get('k', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return 'old';
    });
    cache.invalidate('k'); // a write happened while the read was in flight
    release();
    assert.equal(await slowRead, 'old');
    assert.equal(await cache.get('k', async () => 'new'), 'new');
  });

  it('a lifetime of 0 never keeps anything', async () => {
    const cache = new ShortLivedCache<string>(0);
    const db = source('a');
    await cache.get('k', db.read);
    await cache.get('k', db.read);
    assert.equal(db.state.reads, 2);
  });

  it('a failed read is not kept and the error reaches the caller', async () => {
    const cache = new ShortLivedCache<string>(1000);
    await assert.rejects(cache.get('k', async () => Promise.reject(new Error('disk gone'))), /disk gone/);
    assert.equal(await cache.get('k', async () => 'back'), 'back');
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new ShortLivedCache<string>(1000, 2);
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

  describe('past three quarters of its life', () => {
    it('before then, serves the entry without reading at all', async () => {
      const cache = new ShortLivedCache<string>(200);
      await cache.get('k', async () => 'a');
      age(120);
      let reads = 0;
      assert.equal(await cache.get('k', async () => (reads++, 'b')), 'a');
      await settle(1);
      assert.equal(reads, 0, 'read again at three fifths of its life');
    });

    it('serves the entry and reads again in the background; the next get has the new value', async () => {
      const cache = new ShortLivedCache<string>(200);
      await cache.get('k', async () => 'a');
      age(160);
      let reads = 0;
      let release!: () => void;
      const slowRead = async () => {
        reads++;
        await new Promise<void>((resolve) => (release = resolve));
        return 'b';
      };
      assert.equal(await cache.get('k', slowRead), 'a', 'served at once, without waiting for the read');
      assert.equal(await cache.get('k', slowRead), 'a');
      assert.equal(reads, 1, 'one background read at a time');
      release();
      await settle(1);
      assert.equal(await cache.get('k', async () => 'not read'), 'b');
    });

    it('never serves an entry older than its lifetime, even while a background read is slow', async () => {
      const cache = new ShortLivedCache<string>(120);
      await cache.get('k', async () => 'a');
      age(95);
      // The background read never finishes.
      assert.equal(await cache.get('k', () => new Promise<string>(() => {})), 'a');
      age(35);
      assert.equal(await cache.get('k', async () => 'fresh'), 'fresh');
    });

    it('a background read that overlapped a write is not kept', async () => {
      const cache = new ShortLivedCache<string>(200);
      await cache.get('k', async () => 'a');
      age(160);
      let release!: () => void;
      await cache.get('k', async () => {
        await new Promise<void>((resolve) => (release = resolve));
        return 'read before the write';
      });
      cache.invalidate('k');
      release();
      await settle(5);
      assert.equal(await cache.get('k', async () => 'after the write'), 'after the write');
    });

    it('a failed background read changes nothing; once the entry is too old, the error reaches the caller', async () => {
      const cache = new ShortLivedCache<string>(120);
      await cache.get('k', async () => 'a');
      age(95);
      const failing = async (): Promise<string> => Promise.reject(new Error('disk gone'));
      assert.equal(await cache.get('k', failing), 'a');
      await settle(5);
      assert.equal(await cache.get('k', failing), 'a', 'still young enough, and a new background read is allowed');
      age(30);
      await assert.rejects(cache.get('k', failing), /disk gone/);
    });
  });
});

