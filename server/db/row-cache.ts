// A per-process read cache for what several requests in a row ask the database for (the site's
// session, a learner's progress in a lesson). This process's own writes invalidate an entry at
// once. Other app processes may share the database file: an entry is kept only while no other
// instance has changed the rows (the database's `changes` generation), which this process learns
// within a second (SQLite) or at once (PostgreSQL).

import type { Generations } from './connection.ts';

interface Entry<V> {
  value: V;
  /** The generation the read started in. */
  generation: number;
}

export class RowCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped by every invalidation: a read that overlapped one may be stale and is not kept. */
  private version = 0;

  constructor(
    private readonly changes: Generations,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value while nothing may have changed it, otherwise what `read` returns (kept for next time). */
  async get(key: string, read: () => Promise<V>): Promise<V> {
    const generation = await this.changes.generation();
    const hit = this.entries.get(key);
    if (hit && hit.generation === generation) {
      // Entries do not age out: keep the ones in use at the far end from eviction.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const version = this.version;
    const value = await read();
    if (version === this.version) this.keep(key, { value, generation });
    return value;
  }

  /** Runs a write to what `key` caches (or, without a key, everything), invalidating on both sides. */
  async writing<T>(key: string | undefined, write: () => Promise<T>): Promise<T> {
    this.invalidate(key);
    try {
      return await write();
    } finally {
      this.invalidate(key);
    }
  }

  /** Call before and after writing what `key` caches (or, without a key, everything). */
  invalidate(key?: string): void {
    // A read that started before and ends after this must not be kept: it may have missed the write.
    this.version++;
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  private keep(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Oldest first in a Map's order: drop those beyond the bound.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
