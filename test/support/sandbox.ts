// Sandbox requests as one browser (visit, write, slow, the session actions), what every recorded
// exchange must say, and a hook on a sandbox's store so tests that race two requests can wait for
// the moment one of them has loaded its session instead of guessing it with a sleep.
import assert from 'node:assert/strict';
import type { Exchange } from '../../server/sandbox/model.ts';
import type { Lab } from './lab.ts';
import type { CookieClient } from './http.ts';

export interface SandboxReply {
  status: number;
  /** The Set-Cookie headers exactly as the HTTP response carried them. */
  setCookie: string[];
  exchange: Exchange;
}

export interface SandboxRequestOptions {
  /** Extra request headers (e.g. X-Forwarded-Proto, or a hand-made Cookie). */
  headers?: Record<string, string>;
}

async function sandboxCall(client: CookieClient, path: string, init: RequestInit & { json?: unknown }): Promise<SandboxReply> {
  const res = await client.request(path, init);
  const setCookie = res.headers.getSetCookie();
  const text = await res.text();
  assert.equal(res.status, 200, `${init.method ?? 'GET'} ${path} answered ${res.status}: ${text}`);
  const exchange = JSON.parse(text) as Exchange;
  assertExplanationAgrees(exchange);
  return { status: res.status, setCookie, exchange };
}

export function visit(client: CookieClient, id: string, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/visit`, { headers: options.headers });
}

export function write(client: CookieClient, id: string, key: string, value: string | number | boolean, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/write`, { method: 'POST', json: { key, value }, headers: options.headers });
}

export function slow(client: CookieClient, id: string, ms: number, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/slow?ms=${ms}`, { headers: options.headers });
}

export function act(client: CookieClient, id: string, action: 'regenerate' | 'destroy' | 'unset', options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/${action}`, { method: 'POST', headers: options.headers });
}

/** The store operations an exchange caused, in order (e.g. ['get', 'touch']). */
export function ops(exchange: Exchange): string[] {
  return exchange.storeCalls.map((call) => call.op);
}

/**
 * The explanation of an exchange agrees with what the response did: it never says it is wrong
 * (explainSetCookie appends "this explanation is wrong, please report it" when its prediction
 * and the real Set-Cookie differ), and its verdict ("sent", "re-sent" / "not sent", "no
 * Set-Cookie") is whether the sandbox's cookie really went out.
 */
export function assertExplanationAgrees(exchange: Exchange, context = `exchange #${exchange.number} (${exchange.action})`): void {
  const { why } = exchange;
  assert.doesNotMatch(why, /this explanation is wrong|please report/i, `${context}: the lab says its own explanation is wrong: ${why}`);
  const sent = exchange.setCookie.some((header) => header.startsWith(`${exchange.options.name}=`));
  const verdict = /^(sent|re-sent)\b/.test(why) ? true : /^(not sent|no Set-Cookie)\b/.test(why) ? false : undefined;
  assert.notEqual(verdict, undefined, `${context}: the explanation gives no verdict: ${why}`);
  assert.equal(verdict, sent, `${context}: the explanation says the cookie was ${verdict ? '' : 'not '}sent, but it was ${sent ? '' : 'not '}: ${why}`);
}

type StoreCallback = (err: unknown, session?: unknown) => void;

export interface Parked<T> {
  /** The parked request; it goes on once released. */
  reply: Promise<T>;
  /** The session the store answered that request's `get` with (null: none). */
  loaded: unknown;
  release(): void;
}

/**
 * Sends a request to a sandbox and parks it right after its session is loaded: the sandbox's
 * store answers the request's `get` (recorded as usual), and express-session hears the answer
 * only once `release()` is called. Meanwhile the test can make other requests, knowing the parked
 * one holds the session as it was. The hook wraps the live store's `get` for one call, the way
 * the lab itself records store calls (server/exchange/store-calls.ts), so it must be the next
 * `get` that sandbox's store is asked for.
 */
export async function parkAfterLoad<T>(lab: Lab, id: string, request: () => Promise<T>): Promise<Parked<T>> {
  const sandbox = await lab.registry.find(id);
  assert.ok(sandbox, `no live sandbox ${id}`);
  const store = sandbox.store as unknown as { get(sid: string, callback: StoreCallback): void };
  const get = store.get;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const loaded = new Promise<unknown>((resolve) => {
    store.get = function parked(sid, callback) {
      store.get = get;
      get.call(store, sid, (err, session) => {
        resolve(err ? null : (session ?? null));
        void released.then(() => callback(err, session));
      });
    };
  });
  const reply = request();
  // A request answered without asking the store (refused, or failed first) would leave the test
  // waiting forever: it fails the test instead.
  let parked = false;
  const answeredFirst = reply.then(
    () => {
      if (parked) return;
      store.get = get;
      assert.fail('the request was answered without its store being asked for the session');
    },
    (err: unknown) => {
      if (parked) return;
      store.get = get;
      throw err;
    },
  );
  const session = await Promise.race([
    loaded.then((value) => {
      parked = true;
      return value;
    }),
    answeredFirst,
  ]);
  return { reply, loaded: session, release };
}
