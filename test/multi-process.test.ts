// Several app processes on one SQLite file (two ports): sandboxes, options and sessions made
// through one work through the other, and concurrent writers never hand a learner SQLITE_BUSY.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type ServerProcess } from './support/process.ts';
import { CookieClient, createSandbox } from './support/http.ts';

interface Exchange {
  setCookie: string[];
  sessionAfter: Record<string, unknown> | null;
  storeCalls: { op: string; ok: boolean | null; error?: string }[];
  error: string | null;
}

describe('two app processes on one database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-multi-'));
  const databasePath = join(dir, 'shared.sqlite');
  const env = { DATABASE_PATH: databasePath, SESSION_SECRET: 'multi-process-test-secret-0123456789abcdef' };
  let processes: ServerProcess[] = [];
  let a = '';
  let b = '';

  before(async () => {
    // Started together, as a process manager would: both race to create and migrate the file.
    // Each is ready once it says it listens (on a free port of its own).
    processes = await Promise.all([startServer(env), startServer(env)]);
    [a, b] = processes.map((server) => server.baseUrl) as [string, string];
  });

  after(async () => {
    await Promise.all(processes.map((server) => server.stop('SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a sandbox created through one process answers through the other', async () => {
    const id = await createSandbox(a, { store: 'database' });
    const res = await fetch(`${b}/api/sandboxes/${id}/options`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { store: string }).store, 'database');
  });

  it('a session written through one process is read through the other (SQLite store)', async () => {
    const id = await createSandbox(a, { store: 'database' });
    const learner = new CookieClient(a);
    const wrote = (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange;
    assert.equal(wrote.setCookie.length, 1);
    const read = (await (await learner.at(b).request(`/sandbox/${id}/visit`)).json()) as Exchange;
    assert.equal(read.sessionAfter?.user, 'ada');
  });

  it('options changed through one process take effect in the other within a second', async () => {
    const id = await createSandbox(a, { store: 'database' });
    const learner = new CookieClient(b);
    await learner.request(`/sandbox/${id}/visit`); // process B now holds a live middleware for it
    const put = await fetch(`${a}/api/sandboxes/${id}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed' }) });
    assert.equal(put.status, 200);
    // The promise under test is "within a second" (OtherWriters), across two processes whose
    // clocks a test cannot move: waiting past it is the test, and it cannot come too early.
    await sleep(1100);
    const wrote = (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'k', value: 'v' } })).json()) as Exchange;
    assert.match(wrote.setCookie[0] ?? '', /^renamed=/);
  });

  it('learners writing through both processes at once never see a store error', async () => {
    const learners = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => ({ id: await createSandbox(i % 2 ? a : b, { store: 'database' }), client: new CookieClient(i % 2 ? a : b) })),
    );
    const rounds = 5;
    const results = await Promise.all(
      learners.flatMap(({ id, client }, i) =>
        Array.from({ length: rounds }, async (_, round) => {
          // Alternate processes for the same learner: both write the same rows.
          const via = (i + round) % 2 ? client : client.at(client.baseUrl === a ? b : a);
          const res = await via.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: `r${round}`, value: String(round) } });
          return { status: res.status, exchange: (await res.json()) as Exchange };
        }),
      ),
    );
    for (const { status, exchange } of results) {
      assert.equal(status, 200, JSON.stringify(exchange.error));
      assert.deepEqual(exchange.storeCalls.filter((call) => call.ok === false), []);
    }
  });
});
