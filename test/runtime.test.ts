// The npm scripts run the project's own Node (the `node` package in dependencies puts
// node_modules/.bin/node first on PATH), not whatever the machine has: Node 24 or later, the same
// binary the scripts find, with the sqlite3 native module loading under it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sqlite3 from 'sqlite3';

const root = join(import.meta.dirname, '..');
const projectNode = join(root, 'node_modules', '.bin', 'node');
const major = (version: string) => Number(/^v(\d+)\./.exec(version)?.[1]);

describe('the runtime', () => {
  it('is Node 24 or later (package.json engines)', () => {
    assert.ok(major(process.version) >= 24, `running under Node ${process.version}: run the tests through npm (npm run test:unit)`);
  });

  it('is the project\'s own node_modules/.bin/node, the one first on the npm scripts\' PATH', async () => {
    assert.ok(existsSync(projectNode), `${projectNode} is missing: npm install brings it (the "node" dependency)`);
    const { stdout } = await promisify(execFile)(projectNode, ['--version']);
    assert.equal(stdout.trim(), process.version, `${projectNode} is ${stdout.trim()}, the tests run under ${process.version}`);
  });

  it('loads sqlite3 and runs a query on an in-memory database', async () => {
    const db = new sqlite3.Database(':memory:');
    try {
      const row = await new Promise<{ answer: number; version: string }>((resolve, reject) =>
        db.get('SELECT 6 * 7 AS answer, sqlite_version() AS version', (err: Error | null, result: { answer: number; version: string }) => (err ? reject(err) : resolve(result))),
      );
      assert.equal(row.answer, 42);
      assert.match(row.version, /^3\.\d+\.\d+$/);
    } finally {
      await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    }
  });
});
