// GET /healthz, for a load balancer and for whoever is on call: 200 while the lab's own database
// answers, 503 while it does not (this instance cannot serve lessons then), and for each dependency
// whether it is up, so "which one is down" is one request away. Redis being down is reported but
// is not a 503: only sandboxes on store: 'redis' (and the site's sessions, if they live there) need it.
import type { RequestHandler } from 'express';
import type { Database } from '../db/database.ts';
import type { RedisConnection } from '../stores/redis-connection.ts';

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  database: { engine: string; ok: boolean; error?: string };
  redis: { ok: boolean; error?: string } | 'not configured';
  liveSandboxes: number;
}

export function healthCheck(db: Database, redis: RedisConnection | null, liveSandboxes: () => number): RequestHandler {
  return async (_req, res) => {
    let database: Health['database'] = { engine: db.engine, ok: true };
    try {
      await db.get('SELECT 1');
    } catch (err) {
      database = { engine: db.engine, ok: false, error: (err as Error).message };
    }
    const redisHealth: Health['redis'] = redis === null ? 'not configured' : redis.ready ? { ok: true } : { ok: false, error: redis.lastError ?? 'not connected' };
    const redisDown = typeof redisHealth === 'object' && !redisHealth.ok;
    const health: Health = { status: !database.ok ? 'down' : redisDown ? 'degraded' : 'ok', database, redis: redisHealth, liveSandboxes: liveSandboxes() };
    res.setHeader('Cache-Control', 'no-store');
    res.status(database.ok ? 200 : 503).json(health);
  };
}
