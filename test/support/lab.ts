// The real app (buildApp) in this process, on a free port over a fresh database of the run's engine
// (a SQLite file in a temp folder, or a PostgreSQL schema: test/support/database.ts), with the
// knobs tests need: config overrides, rate limits, registry limits, a short SQLite busy timeout.
// Requests go through test/support/http.ts and test/support/sandbox.ts.
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { buildApp } from '../../server/app.ts';
import type { Database } from '../../server/db/database.ts';
import { freshDatabase, type TestDatabase } from './database.ts';
import { connectRedis } from '../../server/stores/redis-connection.ts';
import { createClient } from 'redis';
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
  classes: ReturnType<typeof buildApp>['classes'];
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
    // Labs of one run share its Redis: each keeps to keys of its own.
    redisPrefix: `test-${randomBytes(4).toString('hex')}:`,
    instanceName: `test-${randomBytes(3).toString('hex')}`,
    instanceCount: 1,
    databasePoolSize: 4,
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

/** A lab on a database of the test's choosing (e.g. a schema on a PostgreSQL server the test stops and starts). */
export function startLabOn(database: TestDatabase, options: LabOptions = {}): Promise<Lab> {
  return launch(database, options);
}

/** The lab owns `database` (and drops it on stop); it passes to the lab a restart starts. */
async function launch(database: TestDatabase, options: LabOptions, redisPrefix?: string): Promise<Lab> {
  const db = await database.open(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const config = { ...testConfig(database.target, database.schema ?? 'public'), ...(redisPrefix ? { redisPrefix } : {}), ...options.config };
  const redis = config.redisUrl ? connectRedis(config.redisUrl, config.redisPrefix) : null;
  const { app, registry, progress, classes } = buildApp({
    config,
    db,
    limits: options.limits,
    registryLimits: options.registryLimits,
    redis,
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
    await redis?.close();
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    database,
    databasePath: database.engine === 'sqlite' ? database.target : null,
    db,
    registry,
    progress,
    classes,
    server,
    restart: async () => {
      await stopServer();
      // The same Redis keys: a restart keeps what Redis holds, as a real one would.
      return launch(database, options, config.redisPrefix);
    },
    stop: async () => {
      await stopServer();
      await database.drop();
      if (config.redisUrl) await dropRedisKeys(config.redisUrl, config.redisPrefix);
    },
  };
}

/** Deletes every key of a lab that has stopped (its prefix), so a run leaves its Redis as it found it. */
async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  // One try: a Redis that a fault test left stopped has nothing left to clean.
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    return;
  }
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
  } finally {
    await client.close();
  }
}
