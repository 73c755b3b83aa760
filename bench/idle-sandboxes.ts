// Memory held by 10,000 idle sandboxes (each with its own express-session middleware and store),
// and whether it comes back after they are evicted. Run with --expose-gc (npm run bench does).
import { openDatabase } from '../server/db/database.ts';
import { SandboxRegistry } from '../server/sandbox/registry.ts';
import { articleOptions } from '../server/sandbox/options.ts';

const COUNT = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const db = await openDatabase(process.env.DATABASE_PATH ?? 'idle.sqlite');
const registry = new SandboxRegistry(db, { liveSandboxes: COUNT });
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const measure = () => {
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
};

const before = measure();
const ids: string[] = [];
for (let i = 0; i < COUNT; i++) ids.push((await registry.create({ ...articleOptions, store: i % 2 ? 'database' : 'memory' })).id);
const held = measure();
registry.forget(ids);
const after = measure();
console.log(`${COUNT} idle sandboxes (half memory, half SQLite store): resident ${mb(held.rss)} MB in all (heap ${mb(held.heapUsed)} MB); ` +
  `${((held.heapUsed - before.heapUsed) / COUNT / 1024).toFixed(1)} KB heap per idle sandbox`);
console.log(`after evicting them: heap ${mb(after.heapUsed)} MB (before: ${mb(before.heapUsed)} MB), resident ${mb(after.rss)} MB`);
await db.close();
