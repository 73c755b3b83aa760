// One sandbox request, recorded as an "exchange": the Cookie header the browser sent, the
// Set-Cookie headers the response really carried, the store calls it caused and the session before
// and after, with the reasons. The response body describes the exchange it is part of, so it is
// written last: after express-session has sent the headers and finished saving.
// Long because it is one request's whole recording, from its arrival to its answer, in the order
// those happen: split, each part would need the others' state.
import type { Request, RequestHandler, Response } from 'express';
import type { SessionData } from 'express-session';
import type { TLSSocket } from 'node:tls';
import onHeaders from 'on-headers';
import { cookieNames, hideValueOf, parseSetCookie, readRequestCookie, type RequestCookieReading } from './cookie-anatomy.ts';
import { SITE_COOKIE_NAME } from '../sandbox/options.ts';
import { explainSetCookie, explainStore } from './explanations.ts';
import type { CookieDecision, Exchange, Prediction, PredictionOutcome, SandboxAction, StoreCall, StoreKeyView } from '../sandbox/model.ts';
import { historyForNote, storeNote } from './store-notes.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { SandboxOptions } from '../sandbox/options.ts';
import { withStoreCallLog, type StoreCallLog } from './store-calls.ts';
import { negotiate, type AnswerFormat } from '../http/negotiation.ts';
import { optionChanges } from '../sandbox/options-diff.ts';
import { browserNotes } from './browser-notes.ts';
import { HttpError } from '../http/http-error.ts';
import { serializeWithoutCookie } from '../stores/session-data.ts';

/** Renders the htmx body for an exchange, given the sandbox after the exchange was recorded. */
export type FragmentRenderer = (sandbox: Sandbox, exchange: Exchange) => string;

export type ActionRunner = (req: Request, res: Response) => Promise<void> | void;

export interface ExchangeOutput {
  /** This app instance's name, recorded on each exchange. */
  instance: string;
  /** Stores the exchange where every instance sees it, numbering it, and adds it to the sandbox's history. */
  save: (sandbox: Sandbox, exchange: Exchange) => Promise<void>;
  renderFragment: FragmentRenderer;
  /** Runs once the exchange is in the sandbox's log, before its answer is written (counting a prediction). */
  recorded?: (sandbox: Sandbox, exchange: Exchange) => Promise<void>;
  /** Brings the sandbox's history up to date with what other instances recorded (read from the database). */
  refresh?: (sandbox: Sandbox) => Promise<unknown>;
  /**
   * An answer of the route's own instead of the lab's formats (JSON, fragment, page): a request
   * from the second site wants an image, a frame's page or a redirect back (server/routes/cross-site.ts).
   */
  answer?: ForeignAnswer;
}

export interface ForeignAnswer {
  /** Sets the status and headers when the action is done, before express-session adds its Set-Cookie. */
  head(req: Request, res: Response, sandbox: Sandbox): void;
  /** The body, once the exchange is recorded. */
  body(exchange: Exchange): string | Buffer;
}

/** One request's recording, from its arrival until its answer is written. */
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
  format: AnswerFormat;
  answer: ForeignAnswer | null;
}

/**
 * The handler for one sandbox action: it runs the sandbox's own session middleware, then the
 * action, then lets express-session end the response (saving or touching the session), and only
 * then writes the body that describes all of it. `res.locals.sandbox` must hold the sandbox.
 */
export function exchangeHandler(action: SandboxAction, run: ActionRunner, output: ExchangeOutput): RequestHandler {
  return (req, res, next) => {
    const sandbox = res.locals.sandbox;
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
      format: negotiate(req, res),
      answer: output.answer ?? null,
    };
    // Registered before express-session's own listener, so it runs after it: it sees the
    // decision's inputs exactly as express-session saw them when it chose whether to set a cookie.
    onHeaders(res, () => {
      state.decision = decisionInputs(req, state);
    });
    deferEndUntilRecorded(req, res, state, action, output);
    // express-session asks its store for the session (get) from inside this call.
    withStoreCallLog(state.log, () =>
      sandbox.middleware(req, res, (err?: unknown) => {
        if (err && state.original) {
          // A save, touch or destroy that failed inside res.end: the answer is already on its way.
          next(err);
        } else if (err) {
          // A store that fails while loading the session is lesson material too: record it, answer 503.
          state.error = `the session store failed while loading the session: ${err instanceof Error ? err.message : String(err)}`;
          finish(req, res, state);
        } else if (!req.session) {
          next(new Error('express-session attached no session to this request'));
        } else {
          state.original = { id: req.session.id, data: serializeWithoutCookie(req.session) };
          void perform(req, res, state, run);
        }
      }),
    );
  };
}

async function perform(req: Request, res: Response, state: ExchangeState, run: ActionRunner): Promise<void> {
  try {
    // regenerate() and destroy() call the store from inside the action, before its first await.
    await withStoreCallLog(state.log, () => run(req, res));
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
    if (err instanceof HttpError) state.errorStatus = err.status;
  }
  finish(req, res, state);
}

/** Ends the request through express-session's res.end, which saves, then lets the exchange be written. */
function finish(req: Request, res: Response, state: ExchangeState): void {
  const format = state.format;
  if (state.error) res.status(state.errorStatus);
  res.setHeader('Cache-Control', 'no-store');
  if (state.answer && !state.error) {
    state.answer.head(req, res, state.sandbox);
    state.finishing = true;
    withStoreCallLog(state.log, () => res.end());
    return;
  }
  // Lets other panels (a lesson's tasks, the cookie probe) refresh once the exchange is in.
  if (format === 'fragment') res.setHeader('HX-Trigger', 'sandbox-exchange');
  res.type(format === 'json' ? 'application/json' : 'text/html');
  if (format === 'page' && !state.error) res.status(303).setHeader('Location', state.sandbox.path);
  state.finishing = true;
  // express-session saves, touches or destroys from inside res.end.
  withStoreCallLog(state.log, () => res.end());
}

/**
 * Installed before express-session wraps res.end, so express-session's "really end now" (after
 * it saved or touched the session) lands here; only then is the whole exchange known.
 */
function deferEndUntilRecorded(req: Request, res: Response, state: ExchangeState, action: SandboxAction, output: ExchangeOutput): void {
  const { save, renderFragment, recorded } = output;
  const end = res.end.bind(res) as (body?: string) => Response;
  res.end = function finishExchange(...args: unknown[]) {
    if (!state.finishing) return (end as (...a: unknown[]) => Response)(...args);
    state.finishing = false;
    // Fixes the headers (express-session sets its cookie as they are written) without sending
    // them yet: they go out with the body, in one write.
    if (!res.headersSent) res.writeHead(res.statusCode);
    record(req, res, state, action, output)
      .then(async (exchange) => {
        await save(state.sandbox, exchange);
        await recorded?.(state.sandbox, exchange).catch((err: unknown) => console.error('after recording an exchange:', err));
        const format = state.format;
        if (state.answer && !state.error) (end as (body: string | Buffer) => Response)(state.answer.body(exchange));
        else if (format === 'json') end(JSON.stringify(exchange));
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

async function record(req: Request, res: Response, state: ExchangeState, action: SandboxAction, { instance, refresh }: ExchangeOutput): Promise<Exchange> {
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
  let storeKey: StoreKeyView | null = null;
  if (decision.sessionId && 'keyView' in sandbox.store) {
    try {
      storeKey = await (sandbox.store as { keyView(sid: string): Promise<StoreKeyView> }).keyView(decision.sessionId);
    } catch (err) {
      error ??= `asking Redis for the session's key failed: ${(err as Error).message}`;
    }
  }
  const getCall = log.calls.find((call) => call.op === 'get');
  const explainInput = { decision, options, action, requestCookie: reading, found: getCall?.found };
  const sent = setCookie.some((header) => header.startsWith(`${options.name}=`));
  const setCookieParsed = setCookie.map((header) => parseSetCookie(header, options.secret));
  // The lab's own view of the scheme (its trust proxy setting), not the sandbox's proxy option.
  const connectionSecure = Boolean((req.socket as TLSSocket).encrypted) || req.secure;
  const previous = sandbox.history.latest;
  // An HTTP/1.0 request may name no host; cookies are then scoped to none.
  const host = req.hostname ?? '';
  const partial = { instance, options, decision, storeCalls: log.calls, requestCookieAnatomy: reading.anatomy, action };
  return {
    // Given when the exchange is stored (ExchangeOutput.save): numbers follow the order exchanges are recorded.
    number: 0,
    instance,
    startedAt: state.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    action,
    method: req.method,
    host,
    connectionSecure,
    path: req.originalUrl,
    status: res.statusCode,
    input: res.locals.write ?? (res.locals.slowMs === undefined ? null : { ms: res.locals.slowMs }),
    requestCookie: req.headers.cookie === undefined ? null : hideValueOf(req.headers.cookie, SITE_COOKIE_NAME),
    requestCookieAnatomy: reading.anatomy,
    sameNameCookies: reading.sameNameCount,
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
    browserNotes: setCookieParsed.flatMap((cookie) => browserNotes(cookie, host, connectionSecure)),
    storeKey,
    storeNote: storeNote({ exchange: partial, history: await historyForNote(partial, () => sandbox.exchanges, refresh && (() => refresh(sandbox))), storeKey }),
    error,
    options,
    prediction: res.locals.prediction ? judge(res.locals.prediction, sent, log.calls) : null,
    optionsChanged: previous ? { since: previous.number, changes: optionChanges(previous.options, options) } : null,
    // Filled in by the second site's route when it saves the exchange (server/routes/cross-site.ts).
    crossSite: res.locals.crossSite ?? null,
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

/** The learner's prediction beside what the response and the store calls show happened. */
function judge(prediction: Prediction, cookieSent: boolean, calls: readonly StoreCall[]): PredictionOutcome {
  // Regenerate writes twice (destroy, then set): a prediction of either one is right.
  const wrote = calls.map((call) => call.op).filter((op) => op !== 'get');
  const observedStore = prediction.store !== null && prediction.store !== 'nothing' && wrote.includes(prediction.store) ? prediction.store : (wrote[0] ?? 'nothing');
  const observed = { cookie: cookieSent ? ('sent' as const) : ('not-sent' as const), store: observedStore } as PredictionOutcome['observed'];
  return {
    ...prediction,
    observed,
    cookieRight: prediction.cookie === null ? null : prediction.cookie === observed.cookie,
    storeRight: prediction.store === null ? null : prediction.store === observed.store,
  };
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


function headerList(value: string | number | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}
