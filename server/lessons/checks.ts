// The task-check vocabulary: declarative conditions over what really happened in a learner's
// sandbox (its recorded exchanges, its options, and what document.cookie showed the page).
// Long because it is the whole vocabulary in one place: every condition, and for each the words
// for what was seen instead (the conditions that look back in time are in check-history.ts).
// Each check reports what it expected and what it observed, in plain words. Every list of names
// in the vocabulary is defined here once; the types and the lesson validator derive from it.
import { redisTtlSource, storedByAnotherInstance } from '../exchange/store-notes.ts';
import type { CrossSiteKind, Exchange, SandboxAction, StoreOp } from '../sandbox/model.ts';
import type { SandboxOptions } from '../sandbox/options.ts';
import type { CookieAnatomy } from '../exchange/cookie-anatomy.ts';
import { cookieExpiry, lastSetCookieBefore, refusalOf, restartBetween } from './check-history.ts';

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
export const EXACT_OPTIONS = ['resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store', 'corsOrigin', 'corsCredentials'] as const satisfies readonly (keyof SandboxOptions)[];

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
  /** Whether the lab predicts the browser refuses the response's cookie (a browser note "The browser rejects…"). */
  browserRefuses?: boolean;
  /**
   * Conditions on the exchange that last sent a Set-Cookie under this request's cookie name before
   * this request started: where the cookie the browser holds (or refused) came from.
   */
  lastSetCookie?: ExchangeConditions;
  /**
   * The request carried no cookie under its name because the last one set under that name expired:
   * its Set-Cookie had an Expires still ahead when it was sent (and no predicted refusal), passed
   * when this request started.
   */
  cookieExpired?: boolean;
  /**
   * Sent from the lab's second site as this kind of request (link, form, image, iframe, fetch,
   * fetch-credentials), or `false`: sent from the sandbox page itself.
   */
  crossSite?: CrossSiteKind | false;
  /**
   * The server restarted after the session the request's cookie names was last saved (a store
   * `set` of that id) and before this request, and no request destroyed that session before the
   * restart: whatever the store did with the session, the restart came in between.
   */
  afterRestart?: boolean;
  /**
   * The request's cookie named a session that another instance of the lab stored (the sandbox's
   * history says which), and this instance's store had none: several instances, a per-process store.
   */
  storedByAnotherInstance?: boolean;
  /** Where Redis's TTL for the session's key came from, as Redis reported it after the exchange. */
  redisTtl?: 'cookie' | 'default';
}

/** A subset of the sandbox options that must match exactly. */
export interface OptionsConditions {
  /** An exact name, or a name other than one (or any) of those listed. */
  name?: string | { not: string | string[] };
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
  corsOrigin?: SandboxOptions['corsOrigin'];
  corsCredentials?: SandboxOptions['corsCredentials'];
}

export type Check =
  | { kind: 'exchange'; which: (typeof EXCHANGE_WHICH)[number]; where: ExchangeConditions; description: string }
  /** What page JavaScript saw; with `after`, read after an exchange meeting those conditions (and its cookie's name is looked for). */
  | { kind: 'probe'; cookieVisible: boolean; after?: ExchangeConditions; description: string }
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
  /** When the probe was read (ms since the epoch); unknown when absent, so no probe counts as read after an exchange. */
  probeAt?: number | null;
  /** The cookies the browser sent with that reading (it came under the sandbox's path), when known. */
  probeSent?: readonly string[] | null;
  /** When the sandbox's server restarted (ms since the epoch), oldest first; none when absent. */
  restarts?: readonly number[];
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
      return evaluateProbe(check, seen);
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
  const closest = closestExchange(check.where, candidates, seen);
  if (!closest) return { passed: false, detail: `Expected ${check.description}, but no request has been made yet.` };
  if (!closest.mismatch) return { passed: true, detail: '' };
  return { passed: false, detail: `Expected ${check.description}, but ${closest.mismatch}.` };
}

/**
 * Of the candidate exchanges, the one that came closest to meeting `where`: one that meets every
 * condition if any does; otherwise the one that meets the most conditions (each attribute, store
 * op, sessionAfter entry and option counting as one), the latest of those on a tie. Its mismatch
 * names it and the first condition it fails ('' when it meets them all); null without candidates.
 */
export function closestExchange(where: ExchangeConditions, candidates: readonly Exchange[], seen: Observation): { exchange: Exchange; mismatch: string } | null {
  let best: { exchange: Exchange; met: number; failed: string } | null = null;
  for (const exchange of candidates) {
    const results = conditionResults(where, exchange, seen);
    const failed = results.find((r) => r !== '') ?? '';
    if (!failed) return { exchange, mismatch: '' };
    const met = results.filter((r) => r === '').length;
    // Candidates are oldest first: >= lets the latest win a tie.
    if (!best || met >= best.met) best = { exchange, met, failed };
  }
  return best && { exchange: best.exchange, mismatch: `in exchange #${best.exchange.number} (${best.exchange.action}) ${best.failed}` };
}

/** A description of the first condition that fails, or '' when all hold. */
export function exchangeMismatch(where: ExchangeConditions, ex: Exchange, seen?: Observation): string {
  return conditionResults(where, ex, seen ?? { exchanges: [ex], options: ex.options, probe: null }).find((r) => r !== '') ?? '';
}

/** One entry per condition of `where`, in the order they are listed above: '' when it holds, else what was seen instead. */
function conditionResults(where: ExchangeConditions, ex: Exchange, seen: Observation): string[] {
  const results: string[] = [];
  const check = (mismatch: string) => results.push(mismatch);
  if (where.action) check(ex.action !== where.action ? `the request was "${ex.action}", not "${where.action}"` : '');
  const cookie = ex.setCookieParsed.find((c) => c.name === ex.options.name);
  if (where.setCookie !== undefined) check(Boolean(cookie) === where.setCookie ? '' : cookie ? 'a Set-Cookie was sent' : 'no Set-Cookie was sent');
  for (const [attribute, wanted] of Object.entries(where.attributes ?? {})) check(attributeMismatch(cookie, attribute as CookieAttribute, wanted));
  if (where.requestCookie) {
    const actual = ex.requestCookieAnatomy?.verdict ?? 'absent';
    check(actual !== where.requestCookie ? `the request's cookie was ${verdictLabel(actual)}, not ${verdictLabel(where.requestCookie)}` : '');
  }
  if (where.verifiedBy !== undefined) {
    const by = ex.requestCookieAnatomy?.verifiedBy;
    check(by !== where.verifiedBy ? `the request's cookie was ${by == null ? 'not verified' : `verified by secret #${by + 1}`}, not by secret #${where.verifiedBy + 1}` : '');
  }
  const ops = ex.storeCalls.map((call) => call.op);
  for (const op of where.storeCalls?.includes ?? []) check(ops.includes(op) ? '' : `the store was not asked to ${op} (calls: ${ops.join(', ') || 'none'})`);
  for (const op of where.storeCalls?.excludes ?? []) check(ops.includes(op) ? `the store was asked to ${op}` : '');
  if (where.sessionFound !== undefined) {
    const found = ex.storeCalls.find((call) => call.op === 'get')?.found ?? false;
    check(found === where.sessionFound ? '' : found ? 'the store found the session' : 'the store had no session for the request');
  }
  if (where.sessionAfter) {
    const after = ex.sessionAfter as unknown as Record<string, unknown> | null;
    if (where.sessionAfter.exists !== undefined) {
      check((after !== null) === where.sessionAfter.exists ? '' : after ? 'the store still held the session' : 'the store held no session afterwards');
    }
    for (const [key, value] of Object.entries(where.sessionAfter.has ?? {})) {
      const actual = after && Object.hasOwn(after, key) ? String(after[key]) : undefined;
      check(actual !== value ? `the stored session's "${key}" was ${actual === undefined ? 'missing' : `"${actual}"`}, not "${value}"` : '');
    }
    for (const key of where.sessionAfter.lacks ?? []) check(after && Object.hasOwn(after, key) ? `the stored session still had "${key}"` : '');
  }
  if (where.why) check(ex.why.toLowerCase().includes(where.why.toLowerCase()) ? '' : `the explanation was: "${ex.why}"`);
  if (where.options) for (const mismatch of optionsResults(where.options, ex.options)) check(mismatch && `when it was made, ${mismatch}`);
  if (where.browserRefuses !== undefined) {
    const refusal = refusalOf(ex);
    check(Boolean(refusal) === where.browserRefuses ? '' : refusal ? `the browser refuses its cookie: ${refusal}` : 'the browser keeps its cookie (no refusal predicted)');
  }
  if (where.lastSetCookie) check(lastSetCookieMismatch(where.lastSetCookie, ex, seen));
  if (where.cookieExpired !== undefined) {
    const expiry = cookieExpiry(ex, seen.exchanges);
    check(expiry.expired === where.cookieExpired ? '' : expiry.expired ? `its cookie had expired (${expiry.words})` : expiry.words);
  }
  if (where.crossSite !== undefined) {
    const kind = ex.crossSite?.kind ?? null;
    const wanted = where.crossSite;
    if (wanted === false) check(kind ? `it was sent from the second site (${kind})` : '');
    else check(kind === wanted ? '' : kind ? `it was a "${kind}" from the second site, not a "${wanted}"` : `it was sent from your sandbox page, not as a "${wanted}" from the second site`);
  }
  if (where.afterRestart !== undefined) {
    const restart = restartBetween(ex, seen.exchanges, seen.restarts ?? []);
    check(restart.restarted === where.afterRestart ? '' : restart.restarted ? `the server had restarted since (${restart.words})` : restart.words);
  }
  if (where.storedByAnotherInstance !== undefined) {
    const storedBy = storedByAnotherInstance(ex, seen.exchanges.filter((e) => e.number < ex.number));
    check(
      Boolean(storedBy) === where.storedByAnotherInstance
        ? ''
        : storedBy
          ? `instance ${ex.instance} answered it, and instance ${storedBy.instance} had stored its session (exchange #${storedBy.number})`
          : `no other instance had stored the session its cookie named (instance ${ex.instance} answered${ex.storeCalls.find((c) => c.op === 'get')?.found ? ', and its store found the session' : ''})`,
    );
  }
  if (where.redisTtl !== undefined) {
    const source = redisTtlSource(ex.storeKey, ex.sessionAfter, new Date(ex.finishedAt).getTime());
    const ttl = ex.storeKey?.ttlSeconds;
    check(
      source === where.redisTtl
        ? ''
        : ex.options.store !== 'redis' || !ex.storeKey
          ? 'the session was not stored in Redis'
          : ttl === null || ttl === undefined
            ? 'Redis held no key for the session afterwards'
            : `Redis's TTL was ${ttl} s, ${source === 'cookie' ? "from the cookie's expiry" : source === 'default' ? "connect-redis's one-day default" : 'neither the cookie\'s expiry nor the one-day default'}`,
    );
  }
  return results;
}

function attributeMismatch(cookie: Exchange['setCookieParsed'][number] | undefined, attribute: CookieAttribute, wanted: boolean | string): string {
  if (!cookie) return 'no Set-Cookie was sent';
  const actual = attributeValue(cookie, attribute);
  if (typeof wanted === 'boolean' && (actual !== null) !== wanted) return `the cookie ${wanted ? 'lacked' : 'had'} the ${attributeLabel(attribute)} attribute`;
  if (typeof wanted === 'string' && (actual ?? '').toLowerCase() !== wanted.toLowerCase()) {
    return `its ${attributeLabel(attribute)} was ${actual === null ? 'absent' : `"${actual}"`}, not "${wanted}"`;
  }
  return '';
}

function lastSetCookieMismatch(where: ExchangeConditions, ex: Exchange, seen: Observation): string {
  const last = lastSetCookieBefore(ex, seen.exchanges);
  if (!last) return `no response before it had set a "${ex.options.name}" cookie`;
  const mismatch = exchangeMismatch(where, last.exchange, seen);
  return mismatch && `the last Set-Cookie for "${ex.options.name}" before it came from exchange #${last.exchange.number} (${last.exchange.action}), where ${mismatch}`;
}

export function optionsMismatch(where: OptionsConditions, options: SandboxOptions): string {
  return optionsResults(where, options).find((r) => r !== '') ?? '';
}

/** One entry per option condition: '' when it holds, else what the option was. */
function optionsResults(where: OptionsConditions, options: SandboxOptions): string[] {
  const results: string[] = [];
  if (typeof where.name === 'string') results.push(options.name !== where.name ? `name was "${options.name}", not "${where.name}"` : '');
  if (typeof where.name === 'object') results.push([where.name.not].flat().includes(options.name) ? `name was ${[where.name.not].flat().length > 1 ? '' : 'still '}"${options.name}"` : '');
  if (where.secretCount !== undefined) {
    results.push(options.secret.length !== where.secretCount ? `${options.secret.length} secret(s) were listed, not ${where.secretCount}` : '');
  }
  if (where.secretExcludes !== undefined) {
    results.push(options.secret.includes(where.secretExcludes) ? `the secret list still holds "${where.secretExcludes}"` : '');
  }
  for (const [key, wanted] of Object.entries(where.cookie ?? {})) {
    const actual = options.cookie[key as keyof SandboxOptions['cookie']];
    results.push(!sameValue(actual, wanted) ? `cookie.${key} was ${JSON.stringify(actual)}, not ${JSON.stringify(wanted)}` : '');
  }
  for (const key of EXACT_OPTIONS) {
    if (where[key] !== undefined) results.push(options[key] !== where[key] ? `${key} was ${JSON.stringify(options[key])}, not ${JSON.stringify(where[key])}` : '');
  }
  return results;
}

function sameValue(actual: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'object' && wanted !== null && 'oneOf' in wanted) return (wanted as { oneOf: unknown[] }).oneOf.includes(actual);
  if (typeof wanted === 'object' && wanted !== null && 'not' in wanted) return actual !== (wanted as { not: unknown }).not;
  if (typeof wanted === 'object' && wanted !== null && 'atLeast' in wanted) return typeof actual === 'number' && actual >= (wanted as { atLeast: number }).atLeast;
  if (typeof wanted === 'object' && wanted !== null && 'atMost' in wanted) return typeof actual === 'number' && actual <= (wanted as { atMost: number }).atMost;
  return actual === wanted;
}

function evaluateProbe(check: Extract<Check, { kind: 'probe' }>, seen: Observation): CheckResult {
  let name = seen.options.name;
  if (check.after) {
    // The probe must have been read after such an exchange: it then reports on that exchange's cookie.
    const matching = seen.exchanges.filter((exchange) => exchangeMismatch(check.after!, exchange, seen) === '');
    if (matching.length === 0) {
      const closest = closestExchange(check.after, seen.exchanges, seen);
      return { passed: false, detail: `Expected ${check.description}, but ${closest ? closest.mismatch : 'no request has been made yet'}.` };
    }
    if (seen.probe === null) return { passed: false, detail: 'Read document.cookie with the probe first.' };
    const readAt = seen.probeAt ?? -Infinity;
    const before = matching.filter((exchange) => Date.parse(exchange.finishedAt) <= readAt).at(-1);
    if (!before) {
      const first = matching[0]!;
      return {
        passed: false,
        detail: `Expected ${check.description}, but document.cookie was last read before exchange #${first.number} (${first.action}) was answered: press Read document.cookie again.`,
      };
    }
    name = before.options.name;
  }
  if (seen.probe === null) return { passed: false, detail: 'Read document.cookie with the probe first.' };
  const visible = seen.probe.split(';').some((pair) => pair.trim().startsWith(`${name}=`));
  // Hidden means held but unseen: a cookie the browser does not hold at all (refused, cleared) hides nothing.
  if (!check.cookieVisible && seen.probeSent && !seen.probeSent.includes(name)) {
    return { passed: false, detail: `Expected ${check.description}, but your browser holds no "${name}" cookie at all (it sent none with the reading), so there is nothing for HttpOnly to hide.` };
  }
  if (visible === check.cookieVisible) return { passed: true, detail: '' };
  return {
    passed: false,
    detail: check.cookieVisible
      ? `Expected page JavaScript to see the "${name}" cookie, but document.cookie was "${seen.probe}".`
      : `Expected the "${name}" cookie to be hidden from page JavaScript, but document.cookie showed it.`,
  };
}

function evaluateRace(check: Extract<Check, { kind: 'race' }>, seen: Observation): CheckResult {
  const { exchanges } = seen;
  for (const slow of [...exchanges].reverse()) {
    if (slow.action !== 'slow' || slow.options.resave !== check.resave || !slow.sessionId) continue;
    // A write that changed the session and saved it: one that wrote what the slow visit's copy
    // already held would be "kept" whatever resave does.
    const write = exchanges.find(
      (w) =>
        w.action === 'write' &&
        w.sessionId === slow.sessionId &&
        // Started after the slow visit (the same millisecond counts: the copy check below rules out
        // a write the slow visit loaded), finished before it (the log is in the order they finished).
        Date.parse(w.startedAt) >= Date.parse(slow.startedAt) &&
        exchanges.indexOf(w) < exchanges.indexOf(slow) &&
        w.error === null &&
        w.storeCalls.some((call) => call.op === 'set' && call.ok === true) &&
        changes(w, w.sessionBefore) &&
        changes(w, slow.sessionBefore),
    );
    if (!write) continue;
    const key = String(write.input?.key ?? '');
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
    detail: `Expected ${check.description}, but no write has run while a slow visit (with resave ${check.resave ? 'on' : 'off'}) was still in flight on the same session, saving a value the session did not hold yet.`,
  };
}

/** Whether the write's key and value differ from what `session` held. */
function changes(write: Exchange, session: Exchange['sessionBefore']): boolean {
  const key = String(write.input?.key ?? '');
  if (!key) return false;
  const held = session as unknown as Record<string, unknown> | null;
  return !(held && Object.hasOwn(held, key) && held[key] === write.input?.value);
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
