// Where a session lives, said in words when it explains an exchange: a MemoryStore is per process,
// so with several app instances the session one instance stored is missing from the others; and a
// Redis key's TTL, which connect-redis sets from the cookie's expiry (else its own one-day `ttl`).
import type { Exchange, StoreKeyView } from '../sandbox/model.ts';

/** connect-redis's default `ttl` for a session whose cookie has no expiry: one day, in seconds. */
export const CONNECT_REDIS_DEFAULT_TTL_S = 86_400;

interface NoteInput {
  /** This exchange as recorded so far. */
  exchange: Pick<Exchange, 'instance' | 'options' | 'decision' | 'storeCalls' | 'requestCookieAnatomy' | 'action'>;
  /** The sandbox's earlier exchanges, oldest first. */
  history: readonly Exchange[];
  storeKey: StoreKeyView | null;
}

export function storeNote({ exchange, history, storeKey }: NoteInput): string | null {
  if (exchange.options.store === 'memory') return memoryElsewhere(exchange, history);
  if (exchange.options.store === 'redis' && storeKey) return redisKeyNote(exchange, storeKey);
  return null;
}

/**
 * The history the store note reads. A memory store that missed a session the cookie names may
 * have missed it because another instance stored it a moment ago: that exchange may not have
 * reached this instance's copy of the history yet, so this (rare) case reads the database first.
 */
export async function historyForNote(
  exchange: Pick<Exchange, 'options' | 'storeCalls' | 'decision'>,
  history: () => readonly Exchange[],
  refresh?: () => Promise<unknown>,
): Promise<readonly Exchange[]> {
  const missed = exchange.options.store === 'memory' && exchange.decision.cookieId && exchange.storeCalls.some((call) => call.op === 'get' && call.found === false);
  if (missed && refresh) await refresh().catch(() => {});
  return history();
}

/**
 * The cookie named a session this instance's MemoryStore does not hold, and the sandbox's history
 * shows another instance storing it: that is why express-session started a new one.
 */
function memoryElsewhere(exchange: NoteInput['exchange'], history: readonly Exchange[]): string | null {
  const storedBy = storedByAnotherInstance(exchange, history);
  const cookieId = exchange.decision.cookieId;
  if (!storedBy || !cookieId) return null;
  return (
    `This lab runs as several instances, and a MemoryStore lives in the memory of one process: instance ${storedBy.instance} ` +
    `stored session ${short(cookieId)} (exchange #${storedBy.number}), but instance ${exchange.instance} answered this request, and its ` +
    `MemoryStore has never held that session. So get() found nothing and express-session started a new, empty session. ` +
    `A load balancer may send each request to any instance: only a store they all share (the database, or Redis) keeps the session.`
  );
}

/**
 * The earlier exchange, answered by another instance, that stored the session this request's
 * cookie names, when this request's `get` found nothing: the session lives where this instance
 * cannot see it. null otherwise.
 */
export function storedByAnotherInstance(exchange: Pick<Exchange, 'instance' | 'decision' | 'storeCalls'>, history: readonly Exchange[]): Exchange | null {
  const get = exchange.storeCalls.find((call) => call.op === 'get');
  const cookieId = exchange.decision.cookieId;
  if (!get || get.found !== false || !cookieId) return null;
  const storedBy = [...history].reverse().find((earlier) => earlier.sessionId === cookieId && earlier.storeCalls.some((call) => call.ok && (call.op === 'set' || call.op === 'touch') && call.sid === cookieId));
  return storedBy && storedBy.instance !== exchange.instance ? storedBy : null;
}

/**
 * Where Redis's TTL for the session's key came from, as observed: the cookie's expiry (within a
 * few seconds of what the stored cookie has left), connect-redis's own one-day `ttl` (the stored
 * cookie has no expiry), or neither / no key (null).
 */
export function redisTtlSource(storeKey: StoreKeyView | null, sessionAfter: Exchange['sessionAfter'], at: number): 'cookie' | 'default' | null {
  const ttl = storeKey?.ttlSeconds;
  if (ttl === null || ttl === undefined || ttl < 0) return null;
  const expires = sessionAfter?.cookie?.expires;
  if (!expires) return Math.abs(ttl - CONNECT_REDIS_DEFAULT_TTL_S) <= 5 ? 'default' : null;
  const left = (new Date(expires).getTime() - at) / 1000;
  return Math.abs(ttl - left) <= 5 ? 'cookie' : null;
}

function redisKeyNote(exchange: NoteInput['exchange'], { key, ttlSeconds }: StoreKeyView): string {
  if (ttlSeconds === null) return `Redis holds no key ${key}: there is no stored session under this id.`;
  const hasExpiry = exchange.decision.hasExpiry;
  const source = hasExpiry
    ? "connect-redis set it from the cookie's Expires (maxAge), so the key and the cookie expire together"
    : `the cookie has no maxAge (a browser-session cookie), so connect-redis used its own ttl option: ${CONNECT_REDIS_DEFAULT_TTL_S} s, a day, whatever the browser does`;
  const touched = exchange.storeCalls.some((call) => call.op === 'touch' && call.ok) ? ' This request touched the session: connect-redis ran EXPIRE, which moved the TTL forward.' : '';
  return `Redis deletes ${key} in ${ttlSeconds} s: ${source}.${touched}`;
}

function short(sid: string): string {
  return `${sid.slice(0, 8)}…`;
}
