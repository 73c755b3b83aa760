// Attributes the store calls express-session makes to the request that caused them, so the
// inspector can list them (get, set, touch, destroy) beside that request's headers.
//
// express-session calls its store synchronously from inside the calls we make into it: the
// middleware itself (get), the session's methods (regenerate, destroy) and res.end (set, touch,
// destroy). So a log set for the duration of those synchronous calls attributes every store call
// exactly, even with concurrent requests on one session, and costs nothing else. (An
// AsyncLocalStorage would do the same, but it keeps a context alive across every await of the
// request, which this exact, synchronous attribution does not need.)
import type { SessionData, Store } from 'express-session';
import { STORE_OPS, type StoreCall } from '../sandbox/model.ts';

export interface StoreCallLog {
  calls: StoreCall[];
  /** The session as the store returned it to this request's `get`, copied before express-session touched it. */
  loaded: SessionData | null;
  /**
   * What the store said it holds after this request's last `set` or `touch`, when it says so (the
   * SQLite store answers with the row its write left). Otherwise the inspector reads the store.
   */
  heldAfterWrite?: { sid: string; session: SessionData | null };
}

let currentLog: StoreCallLog | undefined;

/** Runs `fn` (synchronously) with store calls attributed to `log`. */
export function withStoreCallLog<T>(log: StoreCallLog, fn: () => T): T {
  const previous = currentLog;
  currentLog = log;
  try {
    return fn();
  } finally {
    currentLog = previous;
  }
}

/** Wraps the store's own methods in place; express-session then calls the wrappers unknowingly. */
export function recordStoreCalls<S extends Store>(store: S): S {
  // Only a store that says so answers set and touch with what it holds (connect-redis answers null, meaning nothing).
  const reportsHeld = (store as { reportsHeldSession?: boolean }).reportsHeldSession === true;
  const methods = store as unknown as Record<string, (...args: unknown[]) => void>;
  for (const op of STORE_OPS) {
    const original = methods[op];
    if (typeof original !== 'function') continue;
    methods[op] = function recorded(this: unknown, ...args: unknown[]) {
      const log = currentLog;
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
        if ((op === 'set' || op === 'touch') && reportsHeld) {
          log.heldAfterWrite = !err && result !== undefined ? { sid: call.sid, session: result as SessionData | null } : undefined;
        }
        if (op === 'destroy') log.heldAfterWrite = undefined;
        callback(err, result);
      };
      return original.apply(store, args);
    };
  }
  return store;
}
