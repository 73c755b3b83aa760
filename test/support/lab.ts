// The real app (buildApp) in this process, on a free port over a real SQLite file in a temp
// folder, with the knobs tests need: config overrides, rate limits, registry limits, a short
// SQLite busy timeout. Requests go through test/support/http.ts and test/support/sandbox.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { buildApp } from '../../server/app.ts';
import { openDatabase, type Database } from '../../server/db/database.ts';
import type { Limits } from '../../server/http/rate-limits.ts';
import type { Config } from '../../server/config.ts';
import type { RegistryLimits } from '../../server/sandbox/registry.ts';

export interface Lab {
  baseUrl: string;
  databasePath: string;
  db: Database;
  registry: ReturnType<typeof buildApp>['registry'];
  progress: ReturnType<typeof buildApp>['progress'];
  server: Server;
  /**
   * Stops this process's app (dropping every in-memory store) and starts a new one on the same
   * file, with the same knobs. Use only the returned lab afterwards (it owns the temp folder now;
   * stop that one).
   */
  restart(): Promise<Lab>;
  stop(): Promise<void>;
}

export interface LabOptions {
  /** Over testConfig(): e.g. production, trustProxy. */
  config?: Partial<Config>;
  limits?: Partial<Limits>;
  registryLimits?: Partial<RegistryLimits>;
  busyTimeoutMs?: number;
}

export function testConfig(databasePath: string): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    databasePath,
    production: false,
    trustProxy: 0,
    siteSessionSecret: 'test-site-secret-that-is-long-enough-000',
    otherSiteHost: null,
    limits: {},
  };
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-test-'));
  return launch(join(dir, 'lab.sqlite'), dir, options);
}

/** `ownedDir` is the temp folder to remove on stop; it passes to the lab a restart starts. */
async function launch(databasePath: string, ownedDir: string, options: LabOptions): Promise<Lab> {
  const db = await openDatabase(databasePath, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const { app, registry, progress } = buildApp({
    config: { ...testConfig(databasePath), ...options.config },
    db,
    limits: options.limits,
    registryLimits: options.registryLimits,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.close();
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    databasePath,
    db,
    registry,
    progress,
    server,
    restart: async () => {
      await stopServer();
      return launch(databasePath, ownedDir, options);
    },
    stop: async () => {
      await stopServer();
      rmSync(ownedDir, { recursive: true, force: true });
    },
  };
}
