// The task-check vocabulary: declarative conditions over what really happened in a learner's
// sandbox (its recorded exchanges, its options, and what document.cookie showed the page).
// Each check reports what it expected and what it observed, in plain words. Every list of names
// in the vocabulary is defined here once; the types and the lesson validator derive from it.
import type { Exchange, SandboxAction, StoreOp } from '../sandbox/model.ts';
import type { SandboxOptions } from '../sandbox/options.ts';
import type { CookieAnatomy } from '../exchange/cookie-anatomy.ts';

export const CHECK_KINDS = ['exchange', 'probe', 'options', 'race', 'all'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** Which recorded exchanges an exchange check looks at: the newest only, or any of them. */
export const EXCHANGE_WHICH = ['latest', 'any'] as const;

/** The Set-Cookie attributes a check can look at. */
export const COOKIE_ATTRIBUTES = ['httpOnly', 'secure', 'expires', 'sameSite', 'domain'] as const;
export type CookieAttribute = (typeof COOKIE_ATTRIBUTES)[number];
/** What a Set-Cookie's SameSite can say (compared case-insensitively: express-session writes "Lax"). */
export const SET_COOKIE_SAME_SITE = ['lax', 'strict', 'none'] as const;
const ATTRIBUTE_LABELS: Record<CookieAttribute, string> = { httpOnly: 'HttpOnly', secure: 'Secure', expires: 'Expires', sameSite: 'SameSite', domain: 'Domain' };

/** How the request's sandbox cookie read: absent, or the verdict of its signature check. */
export const REQUEST_COOKIE_STATES = ['absent', 'valid', 'bad-signature', 'unsigned'] as const;
export type RequestCookieState = (typeof REQUEST_COOKIE_STATES)[number];
const VERDICT_LABELS: Record<RequestCookieState, string> = { absent: 'absent', valid: 'validly signed', 'bad-signature': 'badly signed', unsigned: 'unsigned' };

/** The forms a cookie option's wanted value can take besides an exact value. */
export const VALUE_FORMS = ['atLeast', 'atMost', 'oneOf', 'not'] as const;

/** The options an options condition compares exactly (name, secrets and cookie have forms of their own). */
export const EXACT_OPTIONS = ['resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store'] as const satisfies readonly (keyof SandboxOptions)[];

/** Conditions on one exchange; every one given must hold. */
export interface ExchangeConditions {
  action?: SandboxAction;
  /** Whether the response carried a Set-Cookie for the sandbox's cookie. */
  setCookie?: boolean;
  /** Attributes of that Set-Cookie: true/false for presence, or a value to match (case-insensitive). */
  attributes?: Partial<Record<CookieAttribute, boolean | string>>;
  /** The sandbox cookie in the request: absent, or what its signature check said. */
  requestCookie?: RequestCookieState;
  /** Index in the secret list of the secret that verified the request's cookie. */
  verifiedBy?: number;
  storeCalls?: { includes?: StoreOp[]; excludes?: StoreOp[] };
  /** Whether the request's `get` found a session in the store. */
  sessionFound?: boolean;
  sessionAfter?: { exists?: boolean; has?: Record<string, string>; lacks?: string[] };
  /** A phrase the explanation contains (case-insensitive). */
  why?: string;
  options?: OptionsConditions;
}

/** A subset of the sandbox options that must match exactly. */
export interface OptionsConditions {
  name?: string | { not: string };
  secretCount?: number;
  /** A secret that must no longer be listed (e.g. the article's published one). */
  secretExcludes?: string;
  /** Exact values, or { atLeast }, { atMost }, { oneOf: [...] }, { not: value }. */
  cookie?: Partial<Record<keyof SandboxOptions['cookie'], unknown>>;
  resave?: SandboxOptions['resave'];
  saveUninitialized?: SandboxOptions['saveUninitialized'];
  rolling?: SandboxOptions['rolling'];
  unset?: SandboxOptions['unset'];
  proxy?: SandboxOptions['proxy'];
  store?: SandboxOptions['store'];
}

export type Check =
  | { kind: 'exchange'; which: (typeof EXCHANGE_WHICH)[number]; where: ExchangeConditions; description: string }
  | { kind: 'probe'; cookieVisible: boolean; description: string }
  | { kind: 'options'; where: OptionsConditions; description: string }
  /** A write that ran while a slow request was in flight, on the same session; `kept` says whether it survived. */
  | { kind: 'race'; resave: boolean; kept: boolean; description: string }
  | { kind: 'all'; checks: Check[]; description: string };

// The kinds listed above and the union's kinds are the same names (a type error otherwise).
true satisfies SameNames<Check['kind'], CheckKind>;
// The three verdicts of a cookie that is present are the inspector's own.
true satisfies SameNames<Exclude<RequestCookieState, 'absent'>, CookieAnatomy['verdict']>;
// Every option a condition can name is the sandbox's, and every option has a condition.
true satisfies SameNames<(typeof EXACT_OPTIONS)[number] | 'name' | 'secret' | 'cookie', keyof SandboxOptions>;

/** `true` when A and B are the same set of names, `never` (so `true satisfies` fails) when not. */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

export interface Observation {
  exchanges: readonly Exchange[];
  options: SandboxOptions;
  /** What the page's document.cookie held when the learner last looked, or null if never. */
  probe: string | null;
}

export interface CheckResult {
  passed: boolean;
  /** What was expected and what was seen, when it failed. */
  detail: string;
}

export function evaluate(check: Check, seen: Observation): CheckResult {
  switch (check.kind) {
    case 'exchange':
      return evaluateExchange(check, seen);
    case 'probe':
      return evaluateProbe(check.cookieVisible, seen);
    case 'options': {
      const mismatch = optionsMismatch(check.where, seen.options);
      return mismatch ? { passed: false, detail: `Expected ${check.description}, but ${mismatch}.` } : { passed: true, detail: '' };
    }
    case 'race':
      return evaluateRace(check, seen);
    case 'all': {
      for (const part of check.checks) {
        const result = evaluate(part, seen);
        if (!result.passed) return result;
      }
      return { passed: true, detail: '' };
    }
  }
}

function evaluateExchange(check: Extract<Check, { kind: 'exchange' }>, seen: Observation): CheckResult {
  const candidates = check.which === 'latest' ? seen.exchanges.slice(-1) : seen.exchanges;
  if (candidates.length === 0) return { passed: false, detail: `Expected ${check.description}, but no request has been made yet.` };
  let closest = '';
  for (const exchange of [...candidates].reverse()) {
    const mismatch = exchangeMismatch(check.where, exchange);
    if (!mismatch) return { passed: true, detail: '' };
    closest ||= `in exchange #${exchange.number} (${exchange.action}) ${mismatch}`;
  }
  return { passed: false, detail: `Expected ${check.description}, but ${closest}.` };
}

/** Returns a description of the first condition that fails, or '' when all hold. */
export function exchangeMismatch(where: ExchangeConditions, ex: Exchange): string {
  if (where.action && ex.action !== where.action) return `the request was "${ex.action}", not "${where.action}"`;
  const cookie = ex.setCookieParsed.find((c) => c.name === ex.options.name);
  if (where.setCookie !== undefined && Boolean(cookie) !== where.setCookie) {
    return cookie ? 'a Set-Cookie was sent' : 'no Set-Cookie was sent';
  }
  for (const [attribute, wanted] of Object.entries(where.attributes ?? {})) {
    if (!cookie) return 'no Set-Cookie was sent';
    const actual = attributeValue(cookie, attribute as CookieAttribute);
    if (typeof wanted === 'boolean' && (actual !== null) !== wanted) {
      return `the cookie ${wanted ? 'lacked' : 'had'} the ${attributeLabel(attribute as CookieAttribute)} attribute`;
    }
    if (typeof wanted === 'string' && (actual ?? '').toLowerCase() !== wanted.toLowerCase()) {
      return `its ${attributeLabel(attribute as CookieAttribute)} was ${actual === null ? 'absent' : `"${actual}"`}, not "${wanted}"`;
    }
  }
  if (where.requestCookie) {
    const actual = ex.requestCookieAnatomy?.verdict ?? 'absent';
    if (actual !== where.requestCookie) return `the request's cookie was ${verdictLabel(actual)}, not ${verdictLabel(where.requestCookie)}`;
  }
  if (where.verifiedBy !== undefined && ex.requestCookieAnatomy?.verifiedBy !== where.verifiedBy) {
    const by = ex.requestCookieAnatomy?.verifiedBy;
    return `the request's cookie was ${by == null ? 'not verified' : `verified by secret #${by + 1}`}, not by secret #${where.verifiedBy + 1}`;
  }
  const ops = ex.storeCalls.map((call) => call.op);
  for (const op of where.storeCalls?.includes ?? []) if (!ops.includes(op)) return `the store was not asked to ${op} (calls: ${ops.join(', ') || 'none'})`;
  for (const op of where.storeCalls?.excludes ?? []) if (ops.includes(op)) return `the store was asked to ${op}`;
  if (where.sessionFound !== undefined) {
    const found = ex.storeCalls.find((call) => call.op === 'get')?.found ?? false;
    if (found !== where.sessionFound) return found ? 'the store found the session' : 'the store had no session for the request';
  }
  if (where.sessionAfter) {
    const after = ex.sessionAfter as unknown as Record<string, unknown> | null;
    if (where.sessionAfter.exists !== undefined && (after !== null) !== where.sessionAfter.exists) {
      return after ? 'the store still held the session' : 'the store held no session afterwards';
    }
    for (const [key, value] of Object.entries(where.sessionAfter.has ?? {})) {
      const actual = after && Object.hasOwn(after, key) ? String(after[key]) : undefined;
      if (actual !== value) return `the stored session's "${key}" was ${actual === undefined ? 'missing' : `"${actual}"`}, not "${value}"`;
    }
    for (const key of where.sessionAfter.lacks ?? []) {
      if (after && Object.hasOwn(after, key)) return `the stored session still had "${key}"`;
    }
  }
  if (where.why && !ex.why.toLowerCase().includes(where.why.toLowerCase())) return `the explanation was: "${ex.why}"`;
  if (where.options) {
    const mismatch = optionsMismatch(where.options, ex.options);
    if (mismatch) return `when it was made, ${mismatch}`;
  }
  return '';
}

export function optionsMismatch(where: OptionsConditions, options: SandboxOptions): string {
  if (typeof where.name === 'string' && options.name !== where.name) return `name was "${options.name}", not "${where.name}"`;
  if (typeof where.name === 'object' && options.name === where.name.not) return `name was still "${options.name}"`;
  if (where.secretCount !== undefined && options.secret.length !== where.secretCount) {
    return `${options.secret.length} secret(s) were listed, not ${where.secretCount}`;
  }
  if (where.secretExcludes !== undefined && options.secret.includes(where.secretExcludes)) {
    return `the secret list still holds "${where.secretExcludes}"`;
  }
  for (const [key, wanted] of Object.entries(where.cookie ?? {})) {
    const actual = options.cookie[key as keyof SandboxOptions['cookie']];
    if (!sameValue(actual, wanted)) return `cookie.${key} was ${JSON.stringify(actual)}, not ${JSON.stringify(wanted)}`;
  }
  for (const key of EXACT_OPTIONS) {
    if (where[key] !== undefined && options[key] !== where[key]) return `${key} was ${JSON.stringify(options[key])}, not ${JSON.stringify(where[key])}`;
  }
  return '';
}

function sameValue(actual: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'object' && wanted !== null && 'oneOf' in wanted) return (wanted as { oneOf: unknown[] }).oneOf.includes(actual);
  if (typeof wanted === 'object' && wanted !== null && 'not' in wanted) return actual !== (wanted as { not: unknown }).not;
  if (typeof wanted === 'object' && wanted !== null && 'atLeast' in wanted) return typeof actual === 'number' && actual >= (wanted as { atLeast: number }).atLeast;
  if (typeof wanted === 'object' && wanted !== null && 'atMost' in wanted) return typeof actual === 'number' && actual <= (wanted as { atMost: number }).atMost;
  return actual === wanted;
}

function evaluateProbe(cookieVisible: boolean, seen: Observation): CheckResult {
  if (seen.probe === null) return { passed: false, detail: 'Read document.cookie with the probe first.' };
  const visible = seen.probe.split(';').some((pair) => pair.trim().startsWith(`${seen.options.name}=`));
  if (visible === cookieVisible) return { passed: true, detail: '' };
  return {
    passed: false,
    detail: cookieVisible
      ? `Expected page JavaScript to see the "${seen.options.name}" cookie, but document.cookie was "${seen.probe}".`
      : `Expected the "${seen.options.name}" cookie to be hidden from page JavaScript, but document.cookie showed it.`,
  };
}

function evaluateRace(check: Extract<Check, { kind: 'race' }>, seen: Observation): CheckResult {
  const { exchanges } = seen;
  for (const slow of [...exchanges].reverse()) {
    if (slow.action !== 'slow' || slow.options.resave !== check.resave || !slow.sessionId) continue;
    const write = exchanges.find(
      (w) => w.action === 'write' && w.sessionId === slow.sessionId && w.startedAt > slow.startedAt && w.finishedAt < slow.finishedAt,
    );
    if (!write) continue;
    const key = String(write.input?.key ?? '');
    if (!key) continue;
    const after = slow.sessionAfter as unknown as Record<string, unknown> | null;
    const kept = after !== null && after[key] === write.input?.value;
    if (kept === check.kept) return { passed: true, detail: '' };
    return {
      passed: false,
      detail: `Expected ${check.description}, but the write of "${key}" was ${kept ? 'kept' : 'lost'} when the slow request finished.`,
    };
  }
  return {
    passed: false,
    detail: `Expected ${check.description}, but no write has run while a slow visit (with resave ${check.resave ? 'on' : 'off'}) was still in flight on the same session.`,
  };
}

function attributeValue(cookie: Exchange['setCookieParsed'][number], attribute: CookieAttribute): string | null {
  switch (attribute) {
    case 'httpOnly':
      return cookie.httpOnly ? '' : null;
    case 'secure':
      return cookie.secure ? '' : null;
    case 'expires':
      return cookie.expires;
    case 'sameSite':
      return cookie.sameSite;
    case 'domain':
      return cookie.domain;
  }
}

function attributeLabel(attribute: CookieAttribute): string {
  return ATTRIBUTE_LABELS[attribute];
}

function verdictLabel(verdict: RequestCookieState): string {
  return VERDICT_LABELS[verdict];
}

/** Whether the check reads what page JavaScript saw (the probe), which only a browser can report. */
export function readsProbe(check: Check): boolean {
  return check.kind === 'probe' || (check.kind === 'all' && check.checks.some(readsProbe));
}
