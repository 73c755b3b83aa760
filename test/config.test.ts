// The variables that run the lab beyond one machine: each read as documented (README, docs/deploy.md),
// each bad value a one-line reason naming the variable, never a start with a setting half-understood.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readConfig } from '../server/config.ts';

const env = { SESSION_SECRET: 'x'.repeat(32), DATABASE_PATH: '/tmp/cookie-lab-config-test/lab.sqlite' };
const refused = (extra: Record<string, string>, pattern: RegExp) =>
  assert.throws(() => readConfig({ ...env, ...extra }, () => {}), (err: unknown) => err instanceof ConfigError && pattern.test((err as Error).message), JSON.stringify(extra));

describe('configuration beyond one machine', () => {
  it('defaults: SQLite, no Redis, one instance, the sessions in the database, a pool of 10', () => {
    const config = readConfig(env, () => {});
    assert.equal(config.database, '/tmp/cookie-lab-config-test/lab.sqlite');
    assert.equal(config.redisUrl, null);
    assert.equal(config.instanceCount, 1);
    assert.equal(config.siteSessionStore, 'database');
    assert.equal(config.databasePoolSize, 10);
    assert.equal(config.redisPrefix, 'cookie-lab:');
  });

  it('reads every variable', () => {
    const config = readConfig(
      { ...env, DATABASE_URL: 'postgres://lab:pw@db:5432/lab', DATABASE_SCHEMA: 'class_a', DATABASE_POOL_SIZE: '20', REDIS_URL: 'rediss://cache:6380', REDIS_PREFIX: 'lab-a:', SITE_SESSION_STORE: 'redis', INSTANCE_NAME: 'lab-1', INSTANCE_COUNT: '3' },
      () => {},
    );
    assert.deepEqual(
      [config.database, config.databaseSchema, config.databasePoolSize, config.redisUrl, config.redisPrefix, config.siteSessionStore, config.instanceName, config.instanceCount],
      ['postgres://lab:pw@db:5432/lab', 'class_a', 20, 'rediss://cache:6380', 'lab-a:', 'redis', 'lab-1', 3],
    );
  });

  it('refuses each bad value with the variable named, and never echoes a password', () => {
    refused({ DATABASE_URL: 'mysql://lab:secret@db/lab' }, /^DATABASE_URL must be a URL such as postgres:/);
    assert.throws(() => readConfig({ ...env, DATABASE_URL: 'mysql://lab:secret@db/lab' }, () => {}), (err: unknown) => !(err as Error).message.includes('secret'));
    refused({ DATABASE_SCHEMA: 'Class-A' }, /^DATABASE_SCHEMA must be/);
    refused({ DATABASE_POOL_SIZE: '0' }, /^DATABASE_POOL_SIZE must be/);
    refused({ DATABASE_POOL_SIZE: 'ten' }, /^DATABASE_POOL_SIZE must be/);
    refused({ REDIS_URL: 'localhost:6379' }, /^REDIS_URL must be a URL such as redis:/);
    refused({ SITE_SESSION_STORE: 'memcached' }, /^SITE_SESSION_STORE must be "database" or "redis"/);
    refused({ SITE_SESSION_STORE: 'redis' }, /REDIS_URL/);
    refused({ INSTANCE_COUNT: '0' }, /^INSTANCE_COUNT must be/);
    refused({ INSTANCE_COUNT: '2.5' }, /^INSTANCE_COUNT must be/);
    refused({ INSTANCE_NAME: 'lab 1' }, /^INSTANCE_NAME must be/);
  });
});
