// Reads the environment once into a typed config, and finds the site's own session secret.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hostname } from 'node:os';

export interface Config {
  port: number;
  host: string;
  /** The lab's database: a postgres:// URL (DATABASE_URL), or else a SQLite file's path (DATABASE_PATH). */
  database: string;
  /** PostgreSQL only: the schema holding the lab's tables (DATABASE_SCHEMA). */
  databaseSchema: string;
  /** PostgreSQL only: connections this instance's pool may open (DATABASE_POOL_SIZE, default 10), plus one that listens. */
  databasePoolSize: number;
  /** A Redis server (REDIS_URL): sandboxes may then choose store: 'redis'. null: no Redis. */
  redisUrl: string | null;
  /** What every key of this lab in Redis starts with (REDIS_PREFIX): several labs may share one Redis. */
  redisPrefix: string;
  /**
   * This instance's name in the inspector (INSTANCE_NAME; default host name and process id): with
   * several instances, the learner sees which one answered each request.
   */
  instanceName: string;
  /**
   * How many instances serve this lab behind its load balancer (INSTANCE_COUNT, default 1): above
   * one, lesson 8 offers its task on a memory store across instances.
   */
  instanceCount: number;
  /** Where the lab's own sessions live: the database (default) or Redis (SITE_SESSION_STORE=redis). */
  siteSessionStore: 'database' | 'redis';
  production: boolean;
  /**
   * Express's `trust proxy` as a hop count: 0 (none) unless TLS-terminating proxies sit in front.
   * Never `true`, which would believe any X-Forwarded-For a client writes (and let it dodge the
   * per-address limits).
   */
  trustProxy: number;
  siteSessionSecret: string;
  /**
   * The lab's second site (server/http/other-site.ts): another name for this same server, which a
   * browser treats as a different site, for the cross-site lessons. null: localhost and 127.0.0.1
   * stand in for each other, which works on one machine only.
   */
  otherSiteHost: string | null;
  /** Overrides of the per-learner limits (server/http/rate-limits.ts), e.g. for a benchmark. */
  limits: { sandboxesPerMinute?: number; sandboxRequestsPerMinute?: number; teacherRequestsPerMinute?: number; classRequestsPerMinute?: number };
}

export class ConfigError extends Error {}

export function readConfig(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Config {
  const production = env.NODE_ENV === 'production';
  // The generated session secret is kept beside the SQLite file, or in data/ when the database is a server.
  const databasePath = resolve(env.DATABASE_PATH || join('data', 'cookie-lab.sqlite'));
  const redisUrl = parseUrl('REDIS_URL', env.REDIS_URL, /^rediss?:\/\//, 'redis://host:6379');
  return {
    port: parsePort(env.PORT),
    host: env.HOST || '0.0.0.0',
    database: parseUrl('DATABASE_URL', env.DATABASE_URL, /^postgres(ql)?:\/\//, 'postgres://user:password@host:5432/database') ?? databasePath,
    databaseSchema: parseSchema(env.DATABASE_SCHEMA),
    databasePoolSize: parsePoolSize(env.DATABASE_POOL_SIZE),
    redisUrl,
    redisPrefix: parseRedisPrefix(env.REDIS_PREFIX),
    instanceName: parseInstanceName(env.INSTANCE_NAME),
    instanceCount: parseInstanceCount(env.INSTANCE_COUNT),
    siteSessionStore: parseSiteSessionStore(env.SITE_SESSION_STORE, redisUrl),
    production,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    siteSessionSecret: siteSessionSecret(env.SESSION_SECRET, production, dirname(databasePath), log),
    otherSiteHost: parseHostName('OTHER_SITE_HOST', env.OTHER_SITE_HOST),
    limits: {
      ...optionalCount('SANDBOXES_PER_MINUTE', env.SANDBOXES_PER_MINUTE, 'sandboxesPerMinute'),
      ...optionalCount('SANDBOX_REQUESTS_PER_MINUTE', env.SANDBOX_REQUESTS_PER_MINUTE, 'sandboxRequestsPerMinute'),
      ...optionalCount('TEACHER_REQUESTS_PER_MINUTE', env.TEACHER_REQUESTS_PER_MINUTE, 'teacherRequestsPerMinute'),
      ...optionalCount('CLASS_REQUESTS_PER_MINUTE', env.CLASS_REQUESTS_PER_MINUTE, 'classRequestsPerMinute'),
    },
  };
}

/** A URL of the given scheme, or null when unset; anything else stops start-up with an example. */
function parseUrl(variable: string, value: string | undefined, scheme: RegExp, example: string): string | null {
  if (value === undefined || value === '') return null;
  let valid = scheme.test(value);
  try {
    new URL(value);
  } catch {
    valid = false;
  }
  if (!valid) throw new ConfigError(`${variable} must be a URL such as ${example}, got "${value.replace(/\/\/[^@/]*@/, '//…@')}"`);
  return value;
}

function parseSchema(value: string | undefined): string {
  if (value === undefined || value === '') return 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new ConfigError(`DATABASE_SCHEMA must be lower-case letters, digits and _ (at most 63), got "${value}"`);
  return value;
}

function parseInstanceName(value: string | undefined): string {
  if (value === undefined || value === '') return `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) throw new ConfigError(`INSTANCE_NAME must be letters, digits and _ . : - (at most 64), got "${value}"`);
  return value;
}

function parsePoolSize(value: string | undefined): number {
  if (value === undefined || value === '') return 10;
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1) throw new ConfigError(`DATABASE_POOL_SIZE must be a whole number of connections, 1 or more, got "${value}"`);
  return Number(value);
}

function parseInstanceCount(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1) throw new ConfigError(`INSTANCE_COUNT must be a whole number of instances, 1 or more, got "${value}"`);
  return Number(value);
}

function parseRedisPrefix(value: string | undefined): string {
  if (value === undefined || value === '') return 'cookie-lab:';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) throw new ConfigError(`REDIS_PREFIX must be letters, digits and _ . : - (at most 64), got "${value}"`);
  return value;
}

function parseSiteSessionStore(value: string | undefined, redisUrl: string | null): Config['siteSessionStore'] {
  if (value === undefined || value === '' || value === 'database') return 'database';
  if (value !== 'redis') throw new ConfigError(`SITE_SESSION_STORE must be "database" or "redis", got "${value}"`);
  if (!redisUrl) throw new ConfigError('SITE_SESSION_STORE=redis needs REDIS_URL');
  return 'redis';
}

/** A bare host name or IPv4 address (no scheme, port or path): what a Host header would carry. */
function parseHostName(variable: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  const host = value.toLowerCase();
  if (host.length > 253 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    throw new ConfigError(`${variable} must be a host name such as lab-other.example.org (no scheme, port or path), got "${value}"`);
  }
  return host;
}

function parseTrustProxy(value: string | undefined): number {
  if (value === undefined || value === '' || value === 'false') return 0;
  if (value === 'true') return 1;
  const hops = Number(value);
  if (!Number.isInteger(hops) || hops < 0 || hops > 10) throw new ConfigError(`TRUST_PROXY must be the number of proxies in front (0 to 10), got "${value}"`);
  return hops;
}

function optionalCount<K extends string>(variable: string, value: string | undefined, key: K): Partial<Record<K, number>> {
  if (value === undefined || value === '') return {};
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${variable} must be a whole number of at least 1, got "${value}"`);
  return { [key]: n } as Partial<Record<K, number>>;
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/**
 * In production the secret must come from SESSION_SECRET: a generated one would silently differ
 * between machines and end everyone's session on each deploy. In development we generate a strong
 * one once and keep it beside the database, so sessions survive restarts.
 */
function siteSessionSecret(fromEnv: string | undefined, production: boolean, dataDir: string, log: (line: string) => void): string {
  if (fromEnv) {
    if (fromEnv.length < 32) throw new ConfigError('SESSION_SECRET must be at least 32 characters long');
    return fromEnv;
  }
  if (production) throw new ConfigError('SESSION_SECRET is required when NODE_ENV=production');
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  }
  const secret = randomBytes(32).toString('base64url');
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, secret + '\n', { mode: 0o600 });
  } catch (err) {
    throw new ConfigError(`cannot keep the generated session secret in ${file}: ${(err as Error).message}`);
  }
  log(`SESSION_SECRET is not set: generated one and kept it in ${file} (set SESSION_SECRET in production)`);
  return secret;
}
