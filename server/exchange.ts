// One sandbox request, recorded as an "exchange": the Cookie header the browser sent, the
// Set-Cookie headers the response really carried, the store calls it caused and the session before
// and after, with the reasons. The response body describes the exchange it is part of, so it is
// written last: after express-session has sent the headers and finished saving.
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { SessionData } from 'express-session';
import type { TLSSocket } from 'node:tls';
import onHeaders from 'on-headers';
import { parseSetCookie, readRequestCookie, type CookieAnatomy, type ParsedSetCookie, type RequestCookieReading } from './cookie-anatomy.ts';
import { explainSetCookie, explainStore, type CookieDecision, type SandboxAction } from './explain.ts';
import type { Sandbox, SandboxRegistry } from './sandbox-registry.ts';
import type { SandboxOptions } from './sandbox-options.ts';
import { withStoreCallLog, type StoreCall, type StoreCallLog } from './store-calls.ts';
import { browserNotes } from './browser-notes.ts';
import { HttpError } from './http-error.ts';

export interface Exchange {
  number: number;
  /** When the request arrived and when its exchange was complete (ISO times): overlaps show races. */
  startedAt: string;
  finishedAt: string;
  action: SandboxAction;
  method: string;
  path: string;
  status: number;
  /** What the request asked for: the key and value written, or the delay of a slow visit. */
  input: Record<string, string | number | boolean> | null;
  /** The raw Cookie request header, or null when the browser sent none. */
  requestCookie: string | null;
  requestCookieAnatomy: CookieAnatomy | null;
  /** Names of the other cookies the browser sent along (the lab's own, other sandboxes' never). */
  otherRequestCookies: string[];
  /** The raw Set-Cookie headers as the response carried them. */
  setCookie: string[];
  setCookieParsed: ParsedSetCookie[];
  sessionId: string | null;
  sessionBefore: SessionData | null;
  sessionAfter: SessionData | null;
  storeCalls: StoreCall[];
  decision: CookieDecision;
  /** Why a Set-Cookie was or was not sent. */
  why: string;
  whyStore: string;
  /** What the browser will make of the cookie (rejections the server cannot see). */
  browserNotes: string[];
  error: string | null;
  options: SandboxOptions;
}

export type ExchangeFormat = 'json' | 'fragment' | 'redirect';

/** Renders the body for htmx; given the sandbox after the exchange was recorded. */
export type FragmentRenderer = (sandbox: Sandbox, exchange: Exchange) => string;

interface ExchangeState {
  sandbox: Sandbox;
  options: SandboxOptions;
  startedAt: Date;
  reading: RequestCookieReading;
  log: StoreCallLog;
  /** req.sessionID and the session's data as express-session first saw them (its originalId/originalHash). */
  original: { id: string; data: string } | null;
  decision: CookieDecision | null;
  error: string | null;
  /** The status for an error: 503 for a failing store, or the action's own (e.g. 413). */
  errorStatus: number;
  /** Set when the action is done: the next res.end() is the one that finishes the exchange. */
  finishing: boolean;
  /** How the answer is written, from the request's headers (content negotiation, done once). */
  format: ExchangeFormat;
}

export type ActionRunner = (req: Request, res: Response) => Promise<void> | void;

/**
 * The handlers for one sandbox action: capture, the sandbox's own session middleware, the action.
 * `res.locals.sandbox` must already hold the sandbox.
 */
export function exchangeHandlers(
  action: SandboxAction,
  run: ActionRunner,
  registry: SandboxRegistry,
  renderFragment: FragmentRenderer,
): RequestHandler[] {
  const begin: RequestHandler = (req, res, next) => {
    const sandbox = res.locals.sandbox as Sandbox;
    const options = sandbox.options;
    const state: ExchangeState = {
      sandbox,
      options,
      startedAt: new Date(),
      reading: readRequestCookie(req.headers.cookie, options.name, options.secret),
      log: { calls: [], loaded: null },
      original: null,
      decision: null,
      error: null,
      errorStatus: 503,
      finishing: false,
      format: exchangeFormat(req),
    };
    res.locals.exchangeState = state;
    // Registered before express-session's own listener, so it runs after it: it sees the
    // decision's inputs exactly as express-session saw them when it chose whether to set a cookie.
    onHeaders(res, () => {
      state.decision = decisionInputs(req, state);
    });
    deferEndUntilRecorded(req, res, state, action, registry, renderFragment);
    next();
  };

  /** express-session asks its store for the session (get) from inside this call. */
  const runSessionMiddleware: RequestHandler = (req, res, next) => {
    const state = res.locals.exchangeState as ExchangeState;
    withStoreCallLog(state.log, () => state.sandbox.middleware(req, res, next));
  };

  const remember: RequestHandler = (req, res, next) => {
    const state = res.locals.exchangeState as ExchangeState;
    if (!req.session) {
      next(new Error('express-session attached no session to this request'));
      return;
    }
    state.original = { id: req.session.id, data: serializeWithoutCookie(req.session) };
    next();
  };

  const perform: RequestHandler = async (req, res) => {
    const state = res.locals.exchangeState as ExchangeState;
    try {
      // regenerate() and destroy() call the store from inside the action, before its first await.
      await withStoreCallLog(state.log, () => run(req, res));
    } catch (err) {
      state.error = err instanceof Error ? err.message : String(err);
      if (err instanceof HttpError) state.errorStatus = err.status;
    }
    finish(res, state);
  };

  /** A store that fails while loading the session is lesson material too: record it, answer 503. */
  const storeFailed: ErrorRequestHandler = (err: unknown, req, res, next) => {
    const state = res.locals.exchangeState as ExchangeState | undefined;
    if (!state || res.headersSent) {
      next(err);
      return;
    }
    state.error = `the session store failed while loading the session: ${err instanceof Error ? err.message : String(err)}`;
    finish(res, state);
  };

  return [begin, runSessionMiddleware, remember, perform, storeFailed] as RequestHandler[];
}

/** Ends the request through express-session's res.end, which saves, then lets the exchange be written. */
function finish(res: Response, state: ExchangeState): void {
  const format = state.format;
  if (state.error) res.status(state.errorStatus);
  res.setHeader('Cache-Control', 'no-store');
  res.vary('Accept');
  res.vary('HX-Request');
  // Lets other panels (a lesson's tasks) refresh once the exchange is in.
  if (format === 'fragment') res.setHeader('HX-Trigger', 'sandbox-exchange');
  res.type(format === 'json' ? 'application/json' : 'text/html');
  if (format === 'redirect' && !state.error) res.status(303).setHeader('Location', state.sandbox.path);
  state.finishing = true;
  // express-session saves, touches or destroys from inside res.end.
  withStoreCallLog(state.log, () => res.end());
}

export function exchangeFormat(req: Request): ExchangeFormat {
  if (req.get('HX-Request') === 'true') return 'fragment';
  return req.accepts(['html', 'json']) === 'json' ? 'json' : 'redirect';
}

/**
 * Installed before express-session wraps res.end, so express-session's "really end now" (after
 * it saved or touched the session) lands here; only then is the whole exchange known.
 */
function deferEndUntilRecorded(
  req: Request,
  res: Response,
  state: ExchangeState,
  action: SandboxAction,
  registry: SandboxRegistry,
  renderFragment: FragmentRenderer,
): void {
  const end = res.end.bind(res) as (body?: string) => Response;
  res.end = function finishExchange(...args: unknown[]) {
    if (!state.finishing) return (end as (...a: unknown[]) => Response)(...args);
    state.finishing = false;
    // Fixes the headers (express-session sets its cookie as they are written) without sending
    // them yet: they go out with the body, in one write.
    if (!res.headersSent) res.writeHead(res.statusCode);
    record(req, res, state, action)
      .then((exchange) => {
        registry.record(state.sandbox, exchange);
        const format = state.format;
        if (format === 'json') end(JSON.stringify(exchange));
        else if (format === 'fragment') end(renderFragment(state.sandbox, exchange));
        else end(`See ${state.sandbox.path}`);
      })
      .catch((err: unknown) => {
        console.error('could not record an exchange', err);
        end();
      });
    return res;
  } as Response['end'];
}

async function record(req: Request, res: Response, state: ExchangeState, action: SandboxAction): Promise<Exchange> {
  const { sandbox, options, reading, log } = state;
  const setCookie = headerList(res.getHeader('set-cookie'));
  const decision = state.decision ?? decisionInputs(req, state);
  let sessionAfter: SessionData | null = null;
  let error = state.error;
  const held = log.heldAfterWrite;
  if (held && held.sid === decision.sessionId) {
    // The store's own account of what its write left (the SQLite store's RETURNING): no second query.
    sessionAfter = held.session;
  } else if (decision.sessionId) {
    try {
      sessionAfter = await sandbox.store.peek(decision.sessionId);
    } catch (err) {
      error ??= `reading the stored session failed: ${(err as Error).message}`;
    }
  }
  const getCall = log.calls.find((call) => call.op === 'get');
  const explainInput = { decision, options, action, requestCookie: reading, found: getCall?.found };
  const sent = setCookie.some((header) => header.startsWith(`${options.name}=`));
  const setCookieParsed = setCookie.map((header) => parseSetCookie(header, options.secret));
  return {
    number: sandbox.nextExchangeNumber++,
    startedAt: state.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    action,
    method: req.method,
    path: req.originalUrl,
    status: res.statusCode,
    input: (res.locals.write as Exchange['input']) ?? (typeof res.locals.slowMs === 'number' ? { ms: res.locals.slowMs as number } : null),
    requestCookie: req.headers.cookie ?? null,
    requestCookieAnatomy: reading.anatomy,
    otherRequestCookies: cookieNames(req.headers.cookie).filter((name) => name !== options.name),
    setCookie,
    setCookieParsed,
    sessionId: decision.sessionId,
    sessionBefore: log.loaded,
    sessionAfter,
    storeCalls: log.calls,
    decision,
    why: explainSetCookie(explainInput, sent).why,
    whyStore: explainStore(explainInput, log.calls),
    browserNotes: setCookieParsed.flatMap((cookie) => browserNotes(cookie, req.hostname, decision.requestSecure)),
    error,
    options,
  };
}

function decisionInputs(req: Request, state: ExchangeState): CookieDecision {
  const session = req.session;
  const sessionId = typeof req.sessionID === 'string' ? req.sessionID : null;
  const cookieId = state.reading.cookieId ?? null;
  const forwarded = req.headers['x-forwarded-proto'];
  return {
    hasSession: session != null,
    sessionId,
    cookieId,
    isNew: cookieId !== sessionId,
    modified: session != null && state.original != null && (state.original.id !== session.id || state.original.data !== serializeWithoutCookie(session)),
    hasExpiry: session?.cookie.expires != null,
    cookieSecure: Boolean(session?.cookie.secure),
    requestSecure: isSecure(req, state.options.proxy),
    forwardedProto: typeof forwarded === 'string' ? forwarded : null,
    sessionCookie: session
      ? {
          httpOnly: Boolean(session.cookie.httpOnly),
          sameSite: session.cookie.sameSite ?? null,
          domain: session.cookie.domain ?? null,
          maxAge: session.cookie.originalMaxAge ?? null,
        }
      : null,
  };
}

/** express-session's `hash()` input: the session as JSON without its top-level cookie. */
function serializeWithoutCookie(sess: object): string {
  return JSON.stringify(sess, function (this: unknown, key, value: unknown) {
    return this === sess && key === 'cookie' ? undefined : value;
  });
}

/** express-session's `issecure()`, with our sandbox's `proxy` option. */
export function isSecure(req: Request, proxy: boolean | null): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  if (proxy === false) return false;
  if (proxy !== true) return req.secure === true;
  const header = req.headers['x-forwarded-proto'];
  const first = (typeof header === 'string' ? header : '').split(',')[0] ?? '';
  return first.trim().toLowerCase() === 'https';
}

function cookieNames(header: string | undefined): string[] {
  if (!header) return [];
  return [...new Set(header.split(';').map((pair) => pair.split('=')[0]!.trim()).filter(Boolean))];
}

function headerList(value: string | number | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}
