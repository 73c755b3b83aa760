// A per-process read cache for what several requests in a row ask the database for (the site's
// session, a learner's progress in a lesson). Other app processes may share the database and
// change what it holds, so an entry is trusted only briefly; this process's own writes invalidate
// it at once.

export class ShortLivedCache<V> {
  private readonly entries = new Map<string, { value: V; readAt: number }>();
  /** Bumped by every invalidation: a read that overlapped one may be stale and is not kept. */
  private version = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value if it is fresh, otherwise what `read` returns (kept for next time). */
  async get(key: string, read: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.readAt < this.ttlMs) return hit.value;
    const version = this.version;
    const readAt = Date.now();
    const value = await read();
    if (version === this.version && this.ttlMs > 0) this.keep(key, value, readAt);
    return value;
  }

  /** Call before and after writing what `key` caches (or, without a key, everything). */
  invalidate(key?: string): void {
    // A read that started before and ends after this must not be kept: it may have missed the write.
    this.version++;
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  private keep(key: string, value: V, readAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, readAt });
    // Oldest first in a Map's order: drop those beyond the bound.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
