// The lab's one connection to Redis (REDIS_URL), shared by every Redis-backed store: sandboxes that
// chose store: 'redis', and the lab's own sessions with SITE_SESSION_STORE=redis. An outage must
// never end the process nor hang a learner's request: the client has an error listener (without
// one, node-redis's "error" event would throw), reconnects with backoff, and queues commands
// while disconnected only briefly and only so many; past that a command fails, and the learner's
// inspector shows express-session's real behaviour with a store that fails.
import { createClient, type RedisClientType } from 'redis';
import { withoutPassword } from '../db/connection.ts';

export type RedisClient = RedisClientType;

/** How long a command may wait in the queue for the connection to come back before it fails. */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;
/** Commands held while disconnected, at most: a class's worth of requests, not an unbounded backlog. */
export const REDIS_QUEUE_LIMIT = 500;

export interface RedisConnection {
  readonly client: RedisClient;
  /** The key prefix every key of this lab starts with (REDIS_PREFIX): labs may share a Redis. */
  readonly prefix: string;
  /** Whether the client is connected and ready now. */
  readonly ready: boolean;
  /** The latest connection error, while not ready. */
  readonly lastError: string | null;
  close(): Promise<void>;
}

export function connectRedis(url: string, prefix: string, log: (line: string) => void = console.error): RedisConnection {
  const client = createClient({
    url,
    disableOfflineQueue: false,
    commandsQueueMaxLength: REDIS_QUEUE_LIMIT,
    commandOptions: { timeout: REDIS_COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
      // 50 ms, doubling, at most 2 s between tries: back within a couple of seconds of Redis.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  }) as RedisClient;
  let lastError: string | null = null;
  let reported = false;
  client.on('error', (err: Error) => {
    lastError = err.message;
    // Once per outage: a reconnect loop would otherwise log every try.
    if (!reported) log(`Redis at ${withoutPassword(url, 'REDIS_URL')}: ${err.message}; reconnecting (requests that need Redis fail meanwhile)`);
    reported = true;
  });
  client.on('ready', () => {
    if (reported) log(`Redis at ${withoutPassword(url, 'REDIS_URL')} is back`);
    reported = false;
    lastError = null;
  });
  // Not awaited: the lab starts (and answers everything that does not need Redis) while Redis is down.
  client.connect().catch(() => {});
  return {
    client,
    prefix,
    get ready() {
      return client.isReady;
    },
    get lastError() {
      return client.isReady ? null : (lastError ?? 'not connected yet');
    },
    close: async () => {
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
