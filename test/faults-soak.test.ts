// A short soak: rounds of many sandboxes and short-lived sessions (memory and SQLite), each followed
// by the scheduled clean-up (server/db/cleanup.ts). Expired sessions and abandoned sandboxes must go
// (rows, live middlewares, MemoryStore entries), so disk and memory stay bounded, and the heap does
// not keep growing from round to round.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cleanUp } from '../server/db/cleanup.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, healthy } from './support/http.ts';

const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 8);
const SANDBOXES_PER_ROUND = 24;
const LEARNERS_PER_SANDBOX = 3;
// Long enough that no session expires while a loaded machine is still making the round's sessions
// (the count below would then come up short); the clean-up runs as at a moment past it (its `now`).
const MAX_AGE_MS = 60_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let lab: Lab;
before(async () => {
  lab = await startLab({ limits: { sandboxesPerMinute: 1e6, sandboxRequestsPerMinute: 1e6, unknownIdsPerMinute: 1e6 } });
});
after(() => lab.stop());

async function count(sql: string): Promise<number> {
  return (await lab.db.get<{ n: number }>(sql))!.n;
}

/** The SQLite file's size with its WAL (on PostgreSQL, whose space VACUUM reclaims in its own time, not measured). */
function diskBytes(): number {
  if (lab.databasePath === null) return 0;
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(lab.databasePath + suffix).size;
    } catch {
      // not there (yet)
    }
  }
  return total;
}

/** Least-squares slope of the values against their index. */
function slope(values: number[]): number {
  const n = values.length;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return den === 0 ? 0 : num / den;
}

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe('soak: sandboxes and sessions come and go, clean-up keeps everything bounded', () => {
  it(`${ROUNDS} rounds of ${SANDBOXES_PER_ROUND} sandboxes x ${LEARNERS_PER_SANDBOX} learners, each round cleaned up`, async () => {
    const heap: number[] = [];
    const disk: number[] = [];
    let sessionsMade = 0;
    let lastAnswerAt = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const ids = await Promise.all(
        Array.from({ length: SANDBOXES_PER_ROUND }, (_, i) =>
          createSandbox(lab.baseUrl, { store: i % 2 ? 'database' : 'memory', cookie: { maxAge: MAX_AGE_MS }, rolling: i % 3 === 0 }),
        ),
      );
      await Promise.all(
        ids.map(async (id) => {
          for (let l = 0; l < LEARNERS_PER_SANDBOX; l++) {
            const learner = new CookieClient(lab.baseUrl);
            const written = await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'payload', value: `round ${round} ${'p'.repeat(1500)}` } });
            assert.equal(written.status, 200);
            await written.arrayBuffer();
            const visited = await learner.request(`/sandbox/${id}/visit`);
            assert.equal(visited.status, 200);
            assert.equal(((await visited.json()) as Exchange).error, null);
            lastAnswerAt = Date.now();
            sessionsMade++;
          }
        }),
      );
      assert.equal(lab.registry.liveCount, SANDBOXES_PER_ROUND, 'every sandbox of the round is live');
      assert.ok((await count("SELECT count(*) AS n FROM sessions WHERE namespace <> 'site'")) >= (SANDBOXES_PER_ROUND / 2) * LEARNERS_PER_SANDBOX);

      // The sessions expire; the clean-up (nothing abandoned yet) removes them from SQLite and from
      // the MemoryStores of live sandboxes. It runs as at a moment past every session's expiry (its
      // `now`), rather than after sleeping until then.
      const pastEveryExpiry = lastAnswerAt + MAX_AGE_MS + 50;
      const expired = await cleanUp(lab.db, lab.registry, lab.progress, { everyMs: 60_000, abandonedAfterMs: 60 * 60 * 1000 }, pastEveryExpiry);
      assert.ok(expired.expiredSessions >= (SANDBOXES_PER_ROUND / 2) * LEARNERS_PER_SANDBOX, `expired ${expired.expiredSessions}`);
      assert.equal(expired.abandonedSandboxes, 0);
      assert.equal(await count("SELECT count(*) AS n FROM sessions WHERE namespace <> 'site'"), 0, 'expired sessions left in SQLite');
      for (const sandbox of lab.registry.liveSandboxes()) assert.deepEqual(Object.keys(sandbox.memorySessions), [], 'expired sessions left in a MemoryStore');

      // Then the sandboxes count as abandoned: rows and live middlewares go.
      const abandoned = await cleanUp(lab.db, lab.registry, lab.progress, { everyMs: 60_000, abandonedAfterMs: 1 }, Math.max(Date.now(), pastEveryExpiry) + 10);
      assert.equal(abandoned.abandonedSandboxes, SANDBOXES_PER_ROUND);
      assert.equal(await count('SELECT count(*) AS n FROM sandboxes'), 0, 'abandoned sandboxes left in SQLite');
      assert.equal(lab.registry.liveCount, 0, 'abandoned sandboxes left live');
      // A learner coming back to an abandoned sandbox gets a clear 404, not an error.
      const gone = await fetch(`${lab.baseUrl}/sandbox/${ids[0]}/visit`, { headers: { accept: 'application/json' } });
      assert.equal(gone.status, 404);
      await gone.arrayBuffer();

      heap.push(heapMb());
      disk.push(diskBytes());
    }
    await healthy(lab.baseUrl);
    const summary = `heap MB per round: ${heap.map((h) => h.toFixed(1)).join(' ')}; disk KB: ${disk.map((d) => Math.round(d / 1024)).join(' ')}; ${sessionsMade} sessions`;
    // The first round warms up (JIT, caches, pools); after it, the heap stays within a generous band.
    const baseline = Math.min(...heap.slice(1, 3));
    const latest = Math.max(...heap.slice(-2));
    assert.ok(latest < baseline + 25, `the heap keeps growing: ${summary}`);
    // And no steady climb: a leaked round (its sandboxes, exchanges and sessions) is about 0.5 MB.
    assert.ok(slope(heap.slice(1)) < 0.5, `the heap grows ${slope(heap.slice(1)).toFixed(2)} MB a round: ${summary}`);
    // The file stops growing once SQLite reuses freed pages (the WAL is checkpointed into it).
    assert.ok(Math.max(...disk) < 32 * 1024 * 1024, `the database grew past 32 MB: ${summary}`);
    assert.ok(disk.at(-1)! <= Math.max(...disk.slice(0, 3)) * 1.5 + 512 * 1024, `the database keeps growing: ${summary}`);
    console.log(summary);
  });
});
