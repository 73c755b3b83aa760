// GET /healthz, for a load balancer and for whoever is on call: 200 while the lab's own database
// answers, 503 while it does not (this instance cannot serve lessons then), and for each dependency
// whether it is up, so "which one is down" is one request away. Redis being down is a 503 only
// when the lab's own sessions live there; otherwise only sandboxes on store: 'redis' need it.
import type { RequestHandler } from 'express';
import type { Database } from '../db/database.ts';
import type { RedisConnection } from '../stores/redis-connection.ts';

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  database: { engine: string; ok: boolean; error?: string };
  redis: { ok: boolean; error?: string } | 'not configured';
  liveSandboxes: number;
}

/**
 * `sessionsOnRedis`: the lab's own sessions live in Redis (SITE_SESSION_STORE=redis), so without
 * Redis this instance cannot serve lessons either: down, not degraded. Errors are named in words
 * only: the servers' own messages (addresses) go to the log, not to whoever asks.
 */
export function healthCheck(db: Database, redis: RedisConnection | null, sessionsOnRedis: boolean, liveSandboxes: () => number): RequestHandler {
  return async (_req, res) => {
    let database: Health['database'] = { engine: db.engine, ok: true };
    try {
      await db.get('SELECT 1');
    } catch {
      database = { engine: db.engine, ok: false, error: 'not reachable' };
    }
    const redisHealth: Health['redis'] = redis === null ? 'not configured' : redis.ready ? { ok: true } : { ok: false, error: 'not reachable' };
    const redisDown = typeof redisHealth === 'object' && !redisHealth.ok;
    const down = !database.ok || (redisDown && sessionsOnRedis);
    const health: Health = { status: down ? 'down' : redisDown ? 'degraded' : 'ok', database, redis: redisHealth, liveSandboxes: liveSandboxes() };
    res.setHeader('Cache-Control', 'no-store');
    res.status(down ? 503 : 200).json(health);
  };
}
