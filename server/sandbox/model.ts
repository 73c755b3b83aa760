// The records every part of the lab shares: what a sandbox request did (an Exchange), what
// express-session decided for it, and the store calls it caused. Each list of names is defined
// here once; the types, the lesson validator and the recorders are derived from it.
import type { SessionData } from 'express-session';
import type { CookieAnatomy, ParsedSetCookie } from '../exchange/cookie-anatomy.ts';
import type { SandboxOptions } from './options.ts';
import type { OptionChange } from './options-diff.ts';

/** What a learner's browser can ask a sandbox to do to its session. */
export const SANDBOX_ACTIONS = ['visit', 'write', 'slow', 'regenerate', 'destroy', 'unset'] as const;
export type SandboxAction = (typeof SANDBOX_ACTIONS)[number];

/** The requests the second site's page can send to a sandbox (server/routes/cross-site.ts). */
export const CROSS_SITE_KINDS = ['link', 'form', 'image', 'iframe', 'fetch', 'fetch-credentials'] as const;
export type CrossSiteKind = (typeof CROSS_SITE_KINDS)[number];

/** The cross-site grid's columns: the cookie's SameSite attribute as its Set-Cookie said it ('unset': none). */
export const GRID_SAME_SITE = ['unset', 'lax', 'strict', 'none'] as const;
export type GridSameSite = (typeof GRID_SAME_SITE)[number];

/** A request that came from the second site's page, as the browser described it. */
export interface CrossSiteArrival {
  kind: CrossSiteKind;
  /** The browser's own Sec-Fetch-Site (cross-site, same-site, same-origin, none); null when it sent none (plain HTTP off localhost). */
  fetchSite: string | null;
  fetchMode: string | null;
  fetchDest: string | null;
  /** The Origin header (fetches and POSTs carry it). */
  origin: string | null;
  /** Whether the request carried a cookie under the sandbox's name. */
  cookieSent: boolean;
  /** The grid cell it fills, or null with the reason the lab cannot say which cookie the browser held. */
  cell: GridCell | null;
  /** Why there is no cell, or what the cell means, in words. */
  words: string;
  /** Why the browser attached the cookie or not, from its rules (server/exchange/cross-site.ts): an explanation beside the observation. */
  why?: string;
  /** The CORS headers the sandbox answered a fetch with (its `cors` option), null for the other kinds. */
  cors: { allowOrigin: string | null; allowCredentials: boolean } | null;
}

export interface GridCell {
  kind: CrossSiteKind;
  sameSite: GridSameSite;
  /** Whether the browser attached the cookie. */
  sent: boolean;
  secure: boolean;
  /** The exchange that set the cookie in question, and how long before this request (ms), for Lax+POST's two minutes. */
  setBy: number;
  ageMs: number;
}

/** The Store methods express-session calls, and the ones the inspector records. */
export const STORE_OPS = ['get', 'set', 'touch', 'destroy'] as const;
export type StoreOp = (typeof STORE_OPS)[number];

/** What a learner may predict before a request: whether a Set-Cookie comes, and what the store is asked to do. */
export const PREDICTED_COOKIE = ['sent', 'not-sent'] as const;
export const PREDICTED_STORE = ['set', 'touch', 'destroy', 'nothing'] as const;

export interface Prediction {
  cookie: (typeof PREDICTED_COOKIE)[number] | null;
  store: (typeof PREDICTED_STORE)[number] | null;
}

/** A prediction beside what happened; each part null when it was not predicted. */
export interface PredictionOutcome extends Prediction {
  cookieRight: boolean | null;
  storeRight: boolean | null;
  /** What did happen, in the prediction's own terms. */
  observed: { cookie: Prediction['cookie']; store: Prediction['store'] };
}

export interface StoreCall {
  op: StoreOp;
  sid: string;
  /** null while the call is still running (e.g. when a response is cut short). */
  ok: boolean | null;
  error?: string;
  /** For `get`: whether the store had the session. */
  found?: boolean;
}

/** What express-session knew when the response headers went out. */
export interface CookieDecision {
  hasSession: boolean;
  sessionId: string | null;
  /** The id read from a valid signed cookie (express-session's `cookieId`), or null. */
  cookieId: string | null;
  /** cookieId !== req.sessionID: the browser does not hold this session's cookie yet. */
  isNew: boolean;
  /** express-session's isModified: the id changed, or the data (not the cookie) changed. */
  modified: boolean;
  /** req.session.cookie.expires != null, i.e. maxAge is set. */
  hasExpiry: boolean;
  cookieSecure: boolean;
  requestSecure: boolean;
  forwardedProto: string | null;
  /** The session's own cookie settings (req.session.cookie), which a loaded session brings from the store. */
  sessionCookie: { httpOnly: boolean; sameSite: string | boolean | null; domain: string | null; maxAge: number | null } | null;
}

/** What Redis itself says of the session's key (store: 'redis'). */
export interface StoreKeyView {
  key: string;
  /** Seconds until Redis deletes the key; null: the key is not there. */
  ttlSeconds: number | null;
}

export interface Exchange {
  number: number;
  /** The app instance that answered (INSTANCE_NAME): with several, each has its own memory. */
  instance: string;
  /** When the request arrived and when its exchange was complete (ISO times): overlaps show races. */
  startedAt: string;
  finishedAt: string;
  action: SandboxAction;
  method: string;
  /** The host name the request was addressed to (Express's req.hostname), which cookies are scoped to. */
  host: string;
  /**
   * Whether the browser's connection was really HTTPS, as the lab itself sees it (TLS, or its own
   * trusted proxy): apart from what express-session believed (decision.requestSecure).
   */
  connectionSecure: boolean;
  path: string;
  status: number;
  /** What the request asked for: the key and value written, or the delay of a slow visit. */
  input: Record<string, string | number | boolean> | null;
  /** The raw Cookie request header, or null when the browser sent none. */
  requestCookie: string | null;
  requestCookieAnatomy: CookieAnatomy | null;
  /** How many cookies of the sandbox's name the request carried: express-session reads only the first. */
  sameNameCookies: number;
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
  /** For store: 'redis', the session's key and its TTL as Redis reports them after the request. */
  storeKey: StoreKeyView | null;
  /** Where the session lives, when that explains what happened (a memory store in another instance). */
  storeNote: string | null;
  error: string | null;
  options: SandboxOptions;
  /** What the learner predicted before sending it (never required), beside what happened. */
  prediction: PredictionOutcome | null;
  /** The options that differ from those the previous exchange ran with (null for the first one kept). */
  optionsChanged: { since: number; changes: OptionChange[] } | null;
  /** A request the second site's page sent (server/exchange/cross-site.ts); absent or null for the sandbox page's own. */
  crossSite?: CrossSiteArrival | null;
}

