// connect-redis's RedisStore, as a real app would use it, over the lab's one Redis connection, each
// sandbox under a key prefix of its own; plus what the inspector asks of Redis itself: the key a
// session is stored under and its TTL, read without side effects.
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { RedisConnection } from './redis-connection.ts';

/** What Redis itself says of a session's key. */
export interface RedisKeyView {
  key: string;
  /** Seconds until Redis deletes the key; null when the key is not there. */
  ttlSeconds: number | null;
}

export class LabRedisStore extends RedisStore {
  constructor(
    private readonly redis: RedisConnection,
    /** The part after the lab's prefix: "sandbox:<id>:" or "site:". */
    namespace: string,
  ) {
    super({ client: redis.client, prefix: redisPrefix(redis, namespace) });
  }

  /** The stored session exactly as held, for the inspector: no TTL change, no side effect. */
  async peek(sid: string): Promise<SessionData | null> {
    const json = await this.redis.client.get(this.prefix + sid);
    return json ? (JSON.parse(json) as SessionData) : null;
  }

  /** The session's key and its TTL, as Redis reports them (TTL answers -2 for no key, -1 for no expiry). */
  async keyView(sid: string): Promise<RedisKeyView> {
    const key = this.prefix + sid;
    const ttl = await this.redis.client.ttl(key);
    return { key, ttlSeconds: ttl === -2 ? null : ttl };
  }
}

export function redisPrefix(redis: RedisConnection, namespace: string): string {
  return `${redis.prefix}${namespace}`;
}

/** Deletes every key under a sandbox's prefix (the sandbox is gone), a batch at a time. */
export async function deleteSandboxKeys(redis: RedisConnection, sandboxId: string): Promise<number> {
  let deleted = 0;
  const match = `${redisPrefix(redis, `sandbox:${sandboxId}:`)}*`;
  for await (const keys of redis.client.scanIterator({ MATCH: match, COUNT: 100 })) {
    if (keys.length > 0) deleted += await redis.client.del(keys);
  }
  return deleted;
}
