// Housekeeping on a schedule, so disk and memory stay bounded over a long run: expired sessions,
// sandboxes nobody has used for a long time, and the expired sessions a MemoryStore only drops
// when they are read.
import type { Database } from './database.ts';
import type { ProgressStore } from '../lessons/progress.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';

export interface CleanupOptions {
  everyMs: number;
  /** A sandbox unused for this long is deleted with its stored sessions (progress stays). */
  abandonedAfterMs: number;
}

export const defaultCleanup: CleanupOptions = { everyMs: 10 * 60 * 1000, abandonedAfterMs: 30 * 24 * 60 * 60 * 1000 };

export interface CleanupReport {
  expiredSessions: number;
  abandonedSandboxes: number;
}

/** Whether a sandbox's stored options put its sessions in Redis (whose keys then need deleting). */
function onRedis(options: string): boolean {
  try {
    return (JSON.parse(options) as { store?: string }).store === 'redis';
  } catch {
    return false;
  }
}

export async function cleanUp(db: Database, registry: SandboxRegistry, progress: ProgressStore, options: CleanupOptions, now = Date.now()): Promise<CleanupReport> {
  const expired = await db.run('DELETE FROM sessions WHERE expires_at <= ?', [now]);
  const cutoff = now - options.abandonedAfterMs;
  const candidates = await db.all<{ id: string; options: string }>('SELECT id, options FROM sandboxes WHERE last_used_at < ? AND created_at < ?', [cutoff, cutoff]);
  const abandoned: string[] = [];
  for (const { id, options } of candidates) {
    // The row goes first, and only if still unused: a sandbox used since the query keeps its
    // sessions and its place in a lesson.
    const { changes } = await db.run('DELETE FROM sandboxes WHERE id = ? AND last_used_at < ?', [id, cutoff]);
    if (changes === 0) continue;
    await db.run('DELETE FROM sessions WHERE namespace = ?', [id]);
    await db.run('DELETE FROM sandbox_predictions WHERE sandbox_id = ?', [id]);
    await registry.forgetRecords(id, onRedis(options));
    await progress.forgetSandbox(id);
    abandoned.push(id);
  }
  registry.forget(abandoned);
  for (const sessions of registry.memoryStores()) {
    for (const [sid, json] of Object.entries(sessions)) {
      const expires = (JSON.parse(json) as { cookie?: { expires?: string | null } }).cookie?.expires;
      if (expires && Date.parse(expires) <= now) delete sessions[sid];
    }
  }
  return { expiredSessions: expired.changes, abandonedSandboxes: abandoned.length };
}

/** Runs cleanUp every `everyMs`; the timer never keeps the process alive on its own. */
export function scheduleCleanup(db: Database, registry: SandboxRegistry, progress: ProgressStore, options: CleanupOptions = defaultCleanup): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    cleanUp(db, registry, progress, options)
      .catch((err: unknown) => console.error('clean-up failed (will retry):', err))
      .finally(() => {
        running = false;
      });
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
