// A per-process read cache for what several requests in a row ask the database for (the site's
// session, a learner's progress in a lesson). Other app processes may share the database and
// change what it holds, so an entry is trusted only briefly; this process's own writes invalidate
// it at once.

interface Entry<V> {
  value: V;
  readAt: number;
  refreshing: boolean;
}

export class ShortLivedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped by every invalidation: a read that overlapped one may be stale and is not kept. */
  private version = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The cached value if it is younger than ttlMs, otherwise what `read` returns (kept for next
   * time). Past three quarters of its life, an entry is still served but read again in the
   * background, so a learner clicking at least every quarter of ttlMs never waits for the
   * database, and nothing served is ever older than ttlMs. (Past half its life was a third more
   * queries under a classroom's load, and a read takes milliseconds, not a quarter of ttlMs.)
   */
  async get(key: string, read: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    const age = hit ? Date.now() - hit.readAt : Infinity;
    if (hit && age < this.ttlMs) {
      if (age >= this.ttlMs * 0.75 && !hit.refreshing) {
        hit.refreshing = true;
        // A failed refresh changes nothing: the entry ages out and the next get reads (and reports) itself.
        this.readAndKeep(key, read).catch(() => (hit.refreshing = false));
      }
      return hit.value;
    }
    return this.readAndKeep(key, read);
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

  private async readAndKeep(key: string, read: () => Promise<V>): Promise<V> {
    const version = this.version;
    const readAt = Date.now();
    const value = await read();
    if (version === this.version && this.ttlMs > 0) this.keep(key, { value, readAt, refreshing: false });
    return value;
  }

  private keep(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Oldest first in a Map's order: drop those beyond the bound.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
