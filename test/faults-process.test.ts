// Process faults with the real server as a child process: killed with SIGKILL while learners
// write (every acknowledged write survives, the database stays intact), stopped with SIGTERM while a
// slow request runs (it completes, exit code 0), start-up failures (exit non-zero with a clear
// message, never listening), and a production server's log (no warning per sandbox).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { freePort, hookLine, runUntilExit, startServer } from './support/process.ts';
import { assertExplanationAgrees } from './support/sandbox.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { CookieClient } from './support/http.ts';

const SECRET = 'a-session-secret-for-the-process-tests-0123456789';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cookie-lab-process-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function query<T>(path: string, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, (error, rows) => db.close(() => (error ? reject(error) : resolve(rows as T[]))));
    });
  });
}

// The three groups run side by side: most of the time goes into starting Node processes.
describe('process faults', { concurrency: true }, () => {
describe('SIGKILL while learners write', () => {
  it('after a restart every acknowledged write is there, and PRAGMA integrity_check is ok', async () => {
    const databasePath = join(dir, 'killed', 'lab.sqlite');
    const env = { DATABASE_PATH: databasePath, SESSION_SECRET: SECRET };
    const first = await startServer(env);
    const learners = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const res = await fetch(`${first.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ store: 'database', name: `learner${i}` }) });
        assert.equal(res.status, 201);
        const { id } = (await res.json()) as { id: string };
        return { id, name: `learner${i}`, client: new CookieClient(first.baseUrl), acknowledged: new Map<string, string>() };
      }),
    );
    // Each learner writes one key after another, counting a write only once its answer says it was
    // saved. The kill comes once every learner has had ACKNOWLEDGED writes saved (not after a
    // guessed time), while they all go on writing.
    const ACKNOWLEDGED = 5;
    let killed = false;
    let enough!: () => void;
    const allAcknowledged = new Promise<void>((resolve) => (enough = resolve));
    const writing = learners.map(async (learner) => {
      for (let n = 0; !killed; n++) {
        const key = `k${n}`;
        const value = `${learner.name}-value-${n}-${'x'.repeat(n % 50)}`;
        try {
          const res = await learner.client.request(`/sandbox/${learner.id}/write`, { method: 'POST', json: { key, value } });
          const exchange = (await res.json()) as Exchange;
          if (res.status === 200 && exchange.storeCalls.some((c) => c.op === 'set' && c.ok === true)) learner.acknowledged.set(key, value);
        } catch {
          return; // the server is gone
        }
        if (learners.every((l) => l.acknowledged.size >= ACKNOWLEDGED)) enough();
      }
    });
    await Promise.race([allAcknowledged, Promise.all(writing).then(() => assert.fail(`the learners stopped writing before each had ${ACKNOWLEDGED} writes saved`))]);
    first.child.kill('SIGKILL');
    killed = true;
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    await Promise.all(writing);
    for (const learner of learners) assert.ok(learner.acknowledged.size >= ACKNOWLEDGED, `${learner.name} got only ${learner.acknowledged.size} writes in before the kill`);

    assert.deepEqual(await query<{ integrity_check: string }>(databasePath, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);

    const second = await startServer(env);
    try {
      for (const learner of learners) {
        const browser = learner.client.at(second.baseUrl);
        const res = await browser.request(`/sandbox/${learner.id}/visit`);
        assert.equal(res.status, 200);
        const exchange = (await res.json()) as Exchange;
        assertExplanationAgrees(exchange, `${learner.name} after the restart`);
        assert.equal(exchange.options.name, learner.name, 'the sandbox and its options survived');
        const session = exchange.sessionAfter as unknown as Record<string, unknown> | null;
        assert.ok(session, `${learner.name}'s session is gone`);
        for (const [key, value] of learner.acknowledged) assert.equal(session[key], value, `${learner.name}: the acknowledged write ${key} is missing after the kill`);
      }
    } finally {
      // Exit code 0 is the clean stop; the 10 s fallback would exit 1 (and how soon it stops is a
      // figure for npm run bench, not a bound for a loaded machine).
      const stopped = await second.stop('SIGTERM');
      assert.equal(stopped.code, 0, `a clean stop exits 0: ${second.stderr()}`);
    }
    assert.deepEqual(await query<{ integrity_check: string }>(databasePath, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  });
});

describe('SIGTERM while a slow request is in flight', () => {
  it('the slow request still completes with 200, new connections are refused, and the process exits with code 0', async () => {
    // The child reports when the slow request reached the app and when it stopped listening
    // (test/support/child-hooks.ts): the signal and the next connection wait for those moments.
    const server = await startServer({ DATABASE_PATH: join(dir, 'term', 'lab.sqlite'), SESSION_SECRET: SECRET }, { hooks: true });
    const created = await fetch(`${server.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { id } = (await created.json()) as { id: string };
    const startedAt = Date.now();
    const slow = fetch(`${server.baseUrl}/sandbox/${id}/slow?ms=1500`, { headers: { accept: 'application/json' } }).then(async (res) => ({ status: res.status, exchange: (await res.json()) as Exchange, at: Date.now() - startedAt }));
    await server.waitForOutput(hookLine(/request GET \/sandbox\/[^/]+\/slow\?ms=1500$/));
    server.child.kill('SIGTERM');
    await server.waitForOutput(hookLine(/listener closed$/));
    // A new connection is no longer accepted.
    const refused = await new Promise<string>((resolve) => {
      const req = httpRequest(`${server.baseUrl}/healthz`, { agent: false }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    assert.match(refused, /ECONNREFUSED|ECONNRESET/, `a new connection after SIGTERM: ${refused}`);
    // Answered in full, so the process was still there to answer it: it did not exit first.
    const done = await slow;
    assert.equal(done.status, 200, 'the in-flight request completed');
    assert.deepEqual(done.exchange.input, { ms: 1500 });
    assert.ok(done.at >= 1500, `the slow request answered after ${done.at} ms`);
    // Exit code 0 is the graceful stop: the 10 s fallback would exit 1.
    const exit = await server.exited;
    assert.equal(exit.code, 0, `exit code 0 after a graceful stop: ${server.stderr()}`);
    assert.match(server.stdout(), /SIGTERM: finishing in-flight requests/);
  });
});

describe('a production server\'s log', () => {
  it('memory-store sandboxes work and add no MemoryStore warning, however many are built', async () => {
    const server = await startServer({ NODE_ENV: 'production', DATABASE_PATH: join(dir, 'production', 'lab.sqlite'), SESSION_SECRET: SECRET });
    try {
      for (let i = 0; i < 3; i++) {
        const created = await fetch(`${server.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        const { id } = (await created.json()) as { id: string };
        const learner = new CookieClient(server.baseUrl);
        await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'n', value: String(i) } });
        // A changed option rebuilds the middleware (and its store); the sessions stay.
        const put = await fetch(`${server.baseUrl}/api/sandboxes/${id}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rolling: true }) });
        assert.equal(put.status, 200);
        const visit = (await (await learner.request(`/sandbox/${id}/visit`)).json()) as Exchange;
        assert.equal((visit.sessionAfter as Record<string, unknown> | null)?.n, String(i), 'the memory store kept the session through the rebuild');
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    assert.doesNotMatch(server.stderr(), /MemoryStore/, 'express-session warned about MemoryStore');
  });
});

describe('start-up failures: exit non-zero with a clear message, never listening', { concurrency: true }, () => {
  const assertRefusedToStart = (result: Awaited<ReturnType<typeof runUntilExit>>, message: RegExp) => {
    assert.notEqual(result.code, 0, `exit code ${result.code}`);
    assert.equal(result.signal, null, 'it exited by itself (not killed by the timeout)');
    assert.match(result.stderr, /Cookie Lab cannot start: /);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stdout, /listening/, 'it never listened');
  };

  it('DATABASE_PATH whose folder cannot be created (under a regular file)', async () => {
    const file = join(dir, 'a-regular-file');
    writeFileSync(file, 'not a folder');
    const result = await runUntilExit({ DATABASE_PATH: join(file, 'sub', 'lab.sqlite'), SESSION_SECRET: SECRET, PORT: String(await freePort()) });
    assertRefusedToStart(result, /cannot create the database folder .*a-regular-file\/sub/);
  });

  it(
    'DATABASE_PATH whose folder cannot be created, without SESSION_SECRET in development: a one-line reason, not a stack trace',
    async () => {
      const file = join(dir, 'another-regular-file');
      writeFileSync(file, 'not a folder');
      const result = await runUntilExit({ DATABASE_PATH: join(file, 'sub', 'lab.sqlite'), PORT: String(await freePort()) });
      assertRefusedToStart(result, /another-regular-file\/sub/);
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace instead of a message');
    },
  );

  it('a corrupt database file (random bytes)', async () => {
    const path = join(dir, 'corrupt', 'lab.sqlite');
    rmSync(join(dir, 'corrupt'), { recursive: true, force: true });
    mkdirSync(join(dir, 'corrupt'));
    writeFileSync(path, randomBytes(64 * 1024));
    const result = await runUntilExit({ DATABASE_PATH: path, SESSION_SECRET: SECRET, PORT: String(await freePort()) });
    assertRefusedToStart(result, /cannot (use|open) .*lab\.sqlite: SQLITE_NOTADB|file is not a database/);
  });

  it('NODE_ENV=production without SESSION_SECRET, or with a short one', async () => {
    const [missing, short] = await Promise.all([
      runUntilExit({ NODE_ENV: 'production', DATABASE_PATH: join(dir, 'prod', 'lab.sqlite'), PORT: String(await freePort()) }),
      runUntilExit({ NODE_ENV: 'production', SESSION_SECRET: 'short', DATABASE_PATH: join(dir, 'prod', 'lab.sqlite'), PORT: String(await freePort()) }),
    ]);
    assertRefusedToStart(missing, /SESSION_SECRET is required when NODE_ENV=production/);
    assertRefusedToStart(short, /SESSION_SECRET must be at least 32 characters/);
  });

  it('an invalid PORT (not a number, out of range)', async () => {
    const ports = ['abc', '70000'];
    const results = await Promise.all(ports.map((port) => runUntilExit({ PORT: port, DATABASE_PATH: join(dir, 'port', 'lab.sqlite'), SESSION_SECRET: SECRET })));
    results.forEach((result, i) => assertRefusedToStart(result, new RegExp(`PORT must be a whole number from 0 to 65535, got "${ports[i]}"`)));
  });

  it('a PORT another process already listens on', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runUntilExit({ PORT: String(port), DATABASE_PATH: join(dir, 'busy-port', 'lab.sqlite'), SESSION_SECRET: SECRET });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      assert.doesNotMatch(result.stdout, /listening on/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
});
