// Attributes the store calls express-session makes to the request that caused them, so the
// inspector can list them (get, set, touch, destroy) beside that request's headers.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SessionData, Store } from 'express-session';

export interface StoreCall {
  op: 'get' | 'set' | 'touch' | 'destroy';
  sid: string;
  /** null while the call is still running (e.g. when a response is cut short). */
  ok: boolean | null;
  error?: string;
  /** For `get`: whether the store had the session. */
  found?: boolean;
}

export interface StoreCallLog {
  calls: StoreCall[];
  /** The session as the store returned it to this request's `get`, copied before express-session touched it. */
  loaded: SessionData | null;
}

const currentLog = new AsyncLocalStorage<StoreCallLog>();

export function withStoreCallLog<T>(log: StoreCallLog, fn: () => T): T {
  return currentLog.run(log, fn);
}

const RECORDED_OPS = ['get', 'set', 'touch', 'destroy'] as const;

/** Wraps the store's own methods in place; express-session then calls the wrappers unknowingly. */
export function recordStoreCalls<S extends Store>(store: S): S {
  const methods = store as unknown as Record<string, (...args: unknown[]) => void>;
  for (const op of RECORDED_OPS) {
    const original = methods[op];
    if (typeof original !== 'function') continue;
    methods[op] = function recorded(this: unknown, ...args: unknown[]) {
      const log = currentLog.getStore();
      const callbackIndex = args.findIndex((arg) => typeof arg === 'function');
      if (!log || callbackIndex === -1) return original.apply(store, args);
      const call: StoreCall = { op, sid: String(args[0]), ok: null };
      log.calls.push(call);
      const callback = args[callbackIndex] as (err: unknown, result?: unknown) => void;
      args[callbackIndex] = (err: unknown, result?: unknown) => {
        call.ok = !err;
        if (err) call.error = err instanceof Error ? err.message : String(err);
        if (op === 'get' && !err) {
          call.found = result != null;
          log.loaded = result == null ? null : (JSON.parse(JSON.stringify(result)) as SessionData);
        }
        callback(err, result);
      };
      return original.apply(store, args);
    };
  }
  return store;
}
