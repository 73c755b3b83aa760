// Several app processes on one SQLite file (two ports): sandboxes, options and sessions made
// through one work through the other, and concurrent writers never hand a learner SQLITE_BUSY.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
  const processes: ChildProcess[] = [];
  let a = '';
  let b = '';

  before(async () => {
    // Started together, as a process manager would: both race to create and migrate the file.
    [a, b] = await Promise.all([startProcess(3451), startProcess(3452)]);
  });

  after(async () => {
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a sandbox created through one process answers through the other', async () => {
    const id = await createSandbox(a, { store: 'sqlite' });
    const res = await fetch(`${b}/api/sandboxes/${id}/options`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { store: string }).store, 'sqlite');
  });

  it('a session written through one process is read through the other (SQLite store)', async () => {
    const id = await createSandbox(a, { store: 'sqlite' });
    const learner = new CookieClient(a);
    const wrote = (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'user', value: 'ada' } })).json()) as Exchange;
    assert.equal(wrote.setCookie.length, 1);
    const read = (await (await learner.at(b).request(`/sandbox/${id}/visit`)).json()) as Exchange;
    assert.equal(read.sessionAfter?.user, 'ada');
  });

  it('options changed through one process take effect in the other within a second', async () => {
    const id = await createSandbox(a, { store: 'sqlite' });
    const learner = new CookieClient(b);
    await learner.request(`/sandbox/${id}/visit`); // process B now holds a live middleware for it
    const put = await fetch(`${a}/api/sandboxes/${id}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed' }) });
    assert.equal(put.status, 200);
    await sleep(1100); // a process learns of other processes' commits within a second (OtherWriters)
    const wrote = (await (await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'k', value: 'v' } })).json()) as Exchange;
    assert.match(wrote.setCookie[0] ?? '', /^renamed=/);
  });

  it('learners writing through both processes at once never see a store error', async () => {
    const learners = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => ({ id: await createSandbox(i % 2 ? a : b, { store: 'sqlite' }), client: new CookieClient(i % 2 ? a : b) })),
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

  async function startProcess(port: number): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_PATH: databasePath, SESSION_SECRET: 'multi-process-test-secret-0123456789abcdef' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    processes.push(child);
    const url = `http://127.0.0.1:${port}`;
    for (let waited = 0; waited < 30_000; waited += 100) {
      if (child.exitCode !== null) throw new Error(`the app on port ${port} exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/healthz`)).ok) return url;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`the app on port ${port} did not start`);
  }
});
