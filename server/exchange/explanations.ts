// Plain-words explanations of what express-session decided for one request. Each branch mirrors a
// decision in node_modules/express-session/index.js: `shouldSetCookie` and the `issecure` check in
// its on-headers listener, and `shouldSave` / `shouldTouch` / `shouldDestroy` in its res.end.
import type { RequestCookieReading } from './cookie-anatomy.ts';
import type { SandboxOptions } from '../sandbox/options.ts';
import type { CookieDecision, SandboxAction, StoreCall } from '../sandbox/model.ts';

export interface CookieExplanation {
  /** Whether express-session's logic says a Set-Cookie goes out. */
  expected: boolean;
  why: string;
}

export interface ExplainInput {
  decision: CookieDecision;
  options: SandboxOptions;
  action: SandboxAction;
  requestCookie: RequestCookieReading;
  /** Whether the store's `get` found the session the cookie named (undefined when it was not asked). */
  found: boolean | undefined;
}

export function explainSetCookie(input: ExplainInput, observedSent: boolean): CookieExplanation {
  const explanation = predictSetCookie(input);
  if (explanation.expected === observedSent) return explanation;
  return {
    expected: explanation.expected,
    why:
      `${explanation.why} (The lab expected express-session ${explanation.expected ? 'to send' : 'not to send'} a cookie, ` +
      `but it ${observedSent ? 'did' : 'did not'}: this explanation is wrong, please report it.)`,
  };
}

function predictSetCookie({ decision, options, action, requestCookie, found }: ExplainInput): CookieExplanation {
  if (!decision.hasSession) return { expected: false, why: noSessionReason(action, options) };

  let wouldSend: boolean;
  let why: string;
  if (decision.isNew) {
    const origin = newSessionOrigin(action, options.name, requestCookie, found);
    wouldSend = options.saveUninitialized || decision.modified;
    if (!wouldSend) {
      why = `not sent: the session is new and unmodified and saveUninitialized is off (${origin}; nothing was written to it).`;
    } else if (decision.modified) {
      why = `sent: the session is new and was modified (${origin}).`;
    } else {
      why = `sent: the session is new and saveUninitialized is on, so even an empty session gets a cookie (${origin}).`;
    }
  } else {
    wouldSend = options.rolling || (decision.hasExpiry && decision.modified);
    if (wouldSend) {
      why = options.rolling
        ? decision.hasExpiry
          ? 're-sent because rolling is on: every response sends the cookie again with a fresh expiry.'
          : 're-sent because rolling is on: every response sends the cookie again (it has no maxAge, so no Expires: it stays a browser-session cookie).'
        : 're-sent because the session changed and the cookie has maxAge, so its Expires moves forward.';
    } else if (decision.modified) {
      why =
        'not sent: the browser already holds this session\'s cookie; the session changed, but the cookie has no maxAge ' +
        '(no Expires to move forward) and rolling is off.';
    } else {
      why =
        'not sent: the browser already holds this session\'s cookie and the session is unchanged; express-session ' +
        're-sends it only with rolling on, or when the session changed and the cookie has maxAge.';
    }
  }

  if (wouldSend && decision.cookieSecure && !decision.requestSecure) {
    return { expected: false, why: `no Set-Cookie: cookie.secure is on and this request is not HTTPS${proxyHint(decision, options)}. Otherwise it would have been ${why}` };
  }
  if (wouldSend && options.cookie.secure === 'auto') {
    // express-session resolves 'auto' once, when it generates the session; a stored session keeps it.
    why += decision.cookieSecure
      ? ' cookie.secure is "auto" and this request is HTTPS, so the cookie is marked Secure.'
      : decision.requestSecure
        ? ' cookie.secure is "auto", but this session was created over plain HTTP and express-session resolves "auto" only when it creates a session, so the cookie still goes without Secure.'
        : ' cookie.secure is "auto" and this request is plain HTTP, so the cookie goes without Secure.';
  }
  if (wouldSend && !decision.isNew) why += staleCookieSettings(decision, options);
  return { expected: wouldSend, why };
}

/**
 * express-session rebuilds req.session.cookie from the stored session, so cookie options changed
 * after a session was created do not reach its cookie: only new sessions get them.
 */
function staleCookieSettings({ sessionCookie, cookieSecure }: CookieDecision, options: SandboxOptions): string {
  if (!sessionCookie) return '';
  const wanted = options.cookie;
  const differences: string[] = [];
  if (sessionCookie.httpOnly !== wanted.httpOnly) differences.push(`httpOnly ${sessionCookie.httpOnly}`);
  // 'auto' is resolved to 'lax' or 'none' when the session is made: any resolved value matches it.
  if (wanted.sameSite !== 'auto' && (sessionCookie.sameSite ?? false) !== wanted.sameSite) {
    differences.push(`sameSite ${JSON.stringify(sessionCookie.sameSite ?? false)}`);
  }
  if ((sessionCookie.domain ?? null) !== wanted.domain) differences.push(`domain ${JSON.stringify(sessionCookie.domain)}`);
  // express-session derives originalMaxAge from the clock (expires - now), so it can be a few ms short.
  const maxAgeDiffers =
    sessionCookie.maxAge === null || wanted.maxAge === null ? sessionCookie.maxAge !== wanted.maxAge : Math.abs(sessionCookie.maxAge - wanted.maxAge) > 1000;
  if (maxAgeDiffers) differences.push(`maxAge ${JSON.stringify(sessionCookie.maxAge)}`);
  // 'auto' is resolved when the session is made, like sameSite's; an explicit value must match.
  if (wanted.secure !== 'auto' && cookieSecure !== wanted.secure) differences.push(`secure ${cookieSecure}`);
  if (differences.length === 0) return '';
  return (
    ` Note: this session was created with ${differences.join(', ')}, and express-session rebuilds the cookie ` +
    'from the stored session, so your changed cookie options apply only to new sessions (press Regenerate to get one).'
  );
}

function noSessionReason(action: SandboxAction, options: SandboxOptions): string {
  if (action === 'unset') {
    return (
      'no Set-Cookie: req.session was set to null, so express-session has no session to send a cookie for. ' +
      (options.unset === 'destroy'
        ? 'With unset: "destroy" it also called store.destroy() on the session\'s id (see the store line for what that removed).'
        : 'With unset: "keep" the stored session stays in the store, and the browser keeps its cookie.')
    );
  }
  if (action === 'destroy') {
    return (
      'no Set-Cookie: req.session.destroy() called store.destroy() on the current id and removed req.session. express-session does not ' +
      'clear the browser\'s cookie: whatever it holds stays, naming a session the store does not have (res.clearCookie would have to do that).'
    );
  }
  return 'no Set-Cookie: express-session did not attach a session to this request.';
}

function newSessionOrigin(action: SandboxAction, name: string, reading: RequestCookieReading, found: boolean | undefined): string {
  if (action === 'regenerate') return 'req.session.regenerate() replaced the session with one under a new id';
  const anatomy = reading.anatomy;
  if (!anatomy) return `the request carried no "${name}" cookie, so express-session started a new session`;
  if (anatomy.verdict === 'unsigned') return `the "${name}" cookie is not signed (no "s:" prefix), so express-session ignored it and started a new session`;
  if (anatomy.verdict === 'bad-signature') {
    return (
      `the "${name}" cookie's signature does not verify with any listed secret (tampered with, or signed by a secret ` +
      'no longer listed), so express-session ignored it and started a new session'
    );
  }
  if (found === false && reading.sameNameCount > 1) {
    return (
      `the browser sent ${reading.sameNameCount} cookies named "${name}" (same name, different Path or Domain) and express-session reads only the first: ` +
      `its session ${anatomy.sessionId} is not in the store, so express-session started a new one (the session you expect may be in another of those cookies)`
    );
  }
  if (found === false) {
    return `the cookie is validly signed but the store has no session ${anatomy.sessionId} (expired, destroyed, or lost when the store was), so express-session started a new one`;
  }
  return 'express-session started a new session';
}

function proxyHint(decision: CookieDecision, options: SandboxOptions): string {
  if (decision.forwardedProto?.toLowerCase().startsWith('https')) {
    return options.proxy === false
      ? ' (X-Forwarded-Proto says https, but proxy is false, so express-session does not believe it)'
      : options.proxy === null
        ? ' (X-Forwarded-Proto says https, but proxy is unset and Express does not trust proxies, so express-session does not believe it)'
        : '';
  }
  return '';
}

/** Why the store was written, touched, cleared or left alone, from the calls the request really made. */
export function explainStore({ decision, options, action, found }: ExplainInput, calls: readonly StoreCall[]): string {
  const did = (op: StoreCall['op']) => calls.some((call) => call.op === op);
  const failed = calls.find((call) => call.ok === false);
  const failure = failed ? ` The store's ${failed.op}() failed: ${failed.error}.` : '';
  const destroyed = calls.find((call) => call.op === 'destroy');
  // destroy() is called on whatever id is current: a stored session only if the request's cookie named one the store had.
  const removal = destroyed
    ? found === true
      ? `store.destroy(${short(destroyed.sid)}) removed the stored session`
      : `store.destroy(${short(destroyed.sid)}) was called on the current id, but the store never held that session (${found === false ? 'the cookie named a session it did not have' : 'the session was new: no cookie named a stored one'}), so nothing was removed`
    : 'store.destroy() was not called';
  if (action === 'regenerate') {
    const saved = did('set')
      ? 'store.set() saved the new session under its new id'
      : 'no store.set() saved the new session';
    return `${removal}; ${saved}.${failure}`;
  }
  if (action === 'destroy') return `${removal}.${failure}`;
  if (action === 'unset') {
    return (
      (did('destroy')
        ? `unset is "destroy", so setting req.session to null called destroy: ${removal}.`
        : 'nothing written: unset is "keep", so setting req.session to null leaves the stored session as it was.') + failure
    );
  }
  if (did('set')) {
    if (decision.isNew) {
      return (decision.modified
        ? 'store.set(): a new session was written to, so it was saved.'
        : 'store.set(): saveUninitialized is on, so the new, empty session was saved anyway.') + failure;
    }
    return (decision.modified
      ? 'store.set(): the session changed, so it was saved.'
      : 'store.set(): resave is on, so the unchanged session was written back anyway; a parallel request\'s write can be overwritten this way.') + failure;
  }
  if (did('touch')) return `store.touch(): the session is unchanged and resave is off, so only its expiry was refreshed.${failure}`;
  if (decision.hasSession && decision.isNew && !decision.modified && !options.saveUninitialized) {
    return `nothing stored: the session is new and unmodified and saveUninitialized is off.${failure}`;
  }
  return `nothing written to the store.${failure}`;
}

/** The start of a session id, enough to tell ids apart in a sentence. */
function short(sid: string): string {
  return `${sid.slice(0, 8)}…`;
}
