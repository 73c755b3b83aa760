// The real app (buildApp) in this process, on a free port over a fresh database of the run's engine
// (a SQLite file in a temp folder, or a PostgreSQL schema: test/support/database.ts), with the
// knobs tests need: config overrides, rate limits, registry limits, a short SQLite busy timeout.
// Requests go through test/support/http.ts and test/support/sandbox.ts.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { buildApp } from '../../server/app.ts';
import type { Database } from '../../server/db/database.ts';
import { freshDatabase, type TestDatabase } from './database.ts';
import type { Limits } from '../../server/http/rate-limits.ts';
import type { Config } from '../../server/config.ts';
import type { RegistryLimits } from '../../server/sandbox/registry.ts';

export interface Lab {
  baseUrl: string;
  /** The database the lab runs on: open() gives another connection, as another process would have. */
  database: TestDatabase;
  /** The SQLite file (for tests of SQLite's own behaviour); null on PostgreSQL. */
  databasePath: string | null;
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

/** The configuration of a lab on `database` (a SQLite path, or a PostgreSQL URL with `schema`). */
export function testConfig(database: string, schema = 'public'): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    database,
    databaseSchema: schema,
    redisUrl: testRedisUrl,
    siteSessionStore: testRedisUrl && process.env.LAB_TEST_SITE_SESSION_STORE === 'redis' ? 'redis' : 'database',
    production: false,
    trustProxy: 0,
    siteSessionSecret: 'test-site-secret-that-is-long-enough-000',
    otherSiteHost: null,
    limits: {},
  };
}

/** The Redis server of this run (LAB_TEST_REDIS_URL), which every lab is then configured with. */
export const testRedisUrl = process.env.LAB_TEST_REDIS_URL || null;

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  return launch(await freshDatabase(), options);
}

/** The lab owns `database` (and drops it on stop); it passes to the lab a restart starts. */
async function launch(database: TestDatabase, options: LabOptions): Promise<Lab> {
  const db = await database.open(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const { app, registry, progress } = buildApp({
    config: { ...testConfig(database.target, database.schema ?? 'public'), ...options.config },
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
    database,
    databasePath: database.engine === 'sqlite' ? database.target : null,
    db,
    registry,
    progress,
    server,
    restart: async () => {
      await stopServer();
      return launch(database, options);
    },
    stop: async () => {
      await stopServer();
      await database.drop();
    },
  };
}
