// Validation of a task's check: every kind, condition, attribute and value form the check
// vocabulary (checks.ts) defines, and nothing else; a wanted option value is checked as the
// sandbox itself would check it, so a check can never wait for a value no sandbox can hold.
import {
  CHECK_KINDS,
  COOKIE_ATTRIBUTES,
  EXACT_OPTIONS,
  EXCHANGE_WHICH,
  REQUEST_COOKIE_STATES,
  SET_COOKIE_SAME_SITE,
  VALUE_FORMS,
  type Check,
  type CheckKind,
  type CookieAttribute,
  type ExchangeConditions,
  type OptionsConditions,
} from './checks.ts';
import { CROSS_SITE_KINDS, SANDBOX_ACTIONS, STORE_OPS } from '../sandbox/model.ts';
import { articleOptions, LIMITS, OptionsError, validateOptions, type SandboxOptions } from '../sandbox/options.ts';
import { array, boolean, keysOf, knownKeys, mapping, nonEmpty, object, oneOf, text, whole, type Fail } from './fields.ts';

type CheckOf<K extends CheckKind> = Extract<Check, { kind: K }>;

/** The keys each kind of check takes. */
const CHECK_KEYS: { [K in CheckKind]: readonly string[] } = {
  exchange: keysOf<CheckOf<'exchange'>>({ kind: true, description: true, which: true, where: true }),
  probe: keysOf<CheckOf<'probe'>>({ kind: true, description: true, cookieVisible: true, after: true }),
  options: keysOf<CheckOf<'options'>>({ kind: true, description: true, where: true }),
  race: keysOf<CheckOf<'race'>>({ kind: true, description: true, resave: true, kept: true }),
  all: keysOf<CheckOf<'all'>>({ kind: true, description: true, checks: true }),
};

const CONDITIONS = keysOf<ExchangeConditions>({
  action: true,
  setCookie: true,
  attributes: true,
  requestCookie: true,
  verifiedBy: true,
  storeCalls: true,
  sessionFound: true,
  sessionAfter: true,
  why: true,
  options: true,
  browserRefuses: true,
  lastSetCookie: true,
  cookieExpired: true,
  crossSite: true,
  afterRestart: true,
  storedByAnotherInstance: true,
  redisTtl: true,
});
const STORE_CALL_KEYS = keysOf<NonNullable<ExchangeConditions['storeCalls']>>({ includes: true, excludes: true });
const SESSION_AFTER_KEYS = keysOf<NonNullable<ExchangeConditions['sessionAfter']>>({ exists: true, has: true, lacks: true });
const OPTION_CONDITIONS = keysOf<OptionsConditions>({
  name: true,
  secretCount: true,
  secretExcludes: true,
  cookie: true,
  resave: true,
  saveUninitialized: true,
  rolling: true,
  unset: true,
  proxy: true,
  store: true,
  corsOrigin: true,
  corsCredentials: true,
});
/** The sandbox's cookie options, as the article's configuration lists them (it sets every one). */
const COOKIE_OPTIONS = Object.keys(articleOptions.cookie) as (keyof SandboxOptions['cookie'])[];
/** Attributes that are there or not: they carry no value to compare. */
const PRESENCE_ONLY: readonly CookieAttribute[] = ['httpOnly', 'secure', 'expires'];

export function validateCheck(value: unknown, where: string, fail: Fail): Check {
  const check = object(value, where, fail);
  const kind = oneOf(check.kind, CHECK_KINDS, `${where}.kind`, fail);
  knownKeys(check, CHECK_KEYS[kind], `${article(kind)} ${kind} check`, where, fail);
  const description = text(check.description, `${where}.description`, fail);
  switch (kind) {
    case 'exchange': {
      const which = check.which ?? 'latest';
      if (!(EXCHANGE_WHICH as readonly unknown[]).includes(which)) fail(`${where}.which`, `must be ${EXCHANGE_WHICH.map((w) => `"${w}"`).join(' or ')}`);
      return { kind, which: which as CheckOf<'exchange'>['which'], where: validateConditions(check.where, `${where}.where`, fail), description };
    }
    case 'probe': {
      const cookieVisible = boolean(check.cookieVisible, `${where}.cookieVisible`, fail);
      if (check.after === undefined) return { kind, cookieVisible, description };
      return { kind, cookieVisible, after: validateConditions(check.after, `${where}.after`, fail), description };
    }
    case 'options':
      return { kind, where: validateOptionsConditions(check.where, `${where}.where`, fail), description };
    case 'race':
      return { kind, resave: boolean(check.resave, `${where}.resave`, fail), kept: boolean(check.kept, `${where}.kept`, fail), description };
    case 'all': {
      const checks = nonEmpty(array(check.checks, `${where}.checks`, fail), `${where}.checks`, fail).map((c, i) => validateCheck(c, `${where}.checks[${i}]`, fail));
      return { kind, checks, description };
    }
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function validateConditions(value: unknown, where: string, fail: Fail): ExchangeConditions {
  const c = mapping(value, CONDITIONS, "an exchange check's where", where, fail);
  if (c.action !== undefined) oneOf(c.action, SANDBOX_ACTIONS, `${where}.action`, fail);
  if (c.setCookie !== undefined) boolean(c.setCookie, `${where}.setCookie`, fail);
  if (c.sessionFound !== undefined) boolean(c.sessionFound, `${where}.sessionFound`, fail);
  if (c.attributes !== undefined) {
    const attributes = mapping(c.attributes, COOKIE_ATTRIBUTES, 'an attributes condition', `${where}.attributes`, fail);
    for (const [key, wanted] of Object.entries(attributes)) validateAttribute(key as CookieAttribute, wanted, `${where}.attributes.${key}`, fail);
  }
  if (c.requestCookie !== undefined) oneOf(c.requestCookie, REQUEST_COOKIE_STATES, `${where}.requestCookie`, fail);
  if (c.verifiedBy !== undefined) whole(c.verifiedBy, 0, LIMITS.secrets - 1, `${where}.verifiedBy`, fail, `must be a secret index (0 for the first, at most ${LIMITS.secrets - 1})`);
  if (c.storeCalls !== undefined) {
    const calls = mapping(c.storeCalls, STORE_CALL_KEYS, 'a storeCalls condition', `${where}.storeCalls`, fail);
    const lists: Record<string, unknown[]> = {};
    for (const key of Object.keys(calls)) {
      lists[key] = array(calls[key], `${where}.storeCalls.${key}`, fail);
      for (const op of lists[key]) if (!(STORE_OPS as readonly unknown[]).includes(op)) fail(`${where}.storeCalls.${key}`, `${shown(op)} is not one of: ${STORE_OPS.join(', ')}`);
    }
    const both = (lists.includes ?? []).find((op) => (lists.excludes ?? []).includes(op));
    if (both !== undefined) fail(`${where}.storeCalls`, `${shown(both)} is both included and excluded, so the condition can never hold`);
  }
  if (c.sessionAfter !== undefined) {
    const after = mapping(c.sessionAfter, SESSION_AFTER_KEYS, 'a sessionAfter condition', `${where}.sessionAfter`, fail);
    if (after.exists !== undefined) boolean(after.exists, `${where}.sessionAfter.exists`, fail);
    if (after.has !== undefined) {
      for (const [k, v] of Object.entries(object(after.has, `${where}.sessionAfter.has`, fail))) if (typeof v !== 'string') fail(`${where}.sessionAfter.has.${k}`, "must be a string (quote it: '42', 'yes')");
    }
    if (after.lacks !== undefined) for (const k of array(after.lacks, `${where}.sessionAfter.lacks`, fail)) if (typeof k !== 'string') fail(`${where}.sessionAfter.lacks`, 'must list strings');
  }
  if (c.why !== undefined) text(c.why, `${where}.why`, fail);
  if (c.options !== undefined) validateOptionsConditions(c.options, `${where}.options`, fail);
  if (c.browserRefuses !== undefined) boolean(c.browserRefuses, `${where}.browserRefuses`, fail);
  if (c.lastSetCookie !== undefined) validateConditions(c.lastSetCookie, `${where}.lastSetCookie`, fail);
  if (c.cookieExpired !== undefined) boolean(c.cookieExpired, `${where}.cookieExpired`, fail);
  if (c.afterRestart !== undefined) boolean(c.afterRestart, `${where}.afterRestart`, fail);
  if (c.storedByAnotherInstance !== undefined) boolean(c.storedByAnotherInstance, `${where}.storedByAnotherInstance`, fail);
  if (c.redisTtl !== undefined) oneOf(c.redisTtl, ['cookie', 'default'] as const, `${where}.redisTtl`, fail);
  if (c.crossSite !== undefined && c.crossSite !== false) oneOf(c.crossSite, CROSS_SITE_KINDS, `${where}.crossSite`, fail);
  return c as ExchangeConditions;
}

/** true/false: present or absent; a value (SameSite, Domain): compared case-insensitively. */
function validateAttribute(key: CookieAttribute, wanted: unknown, where: string, fail: Fail): void {
  if (typeof wanted === 'boolean') return;
  if (PRESENCE_ONLY.includes(key)) fail(where, 'must be true (present) or false (absent)');
  if (key === 'sameSite' && !(typeof wanted === 'string' && (SET_COOKIE_SAME_SITE as readonly string[]).includes(wanted.toLowerCase()))) {
    fail(where, `must be true, false or one of: ${SET_COOKIE_SAME_SITE.join(', ')}`);
  }
  if (typeof wanted !== 'string' || wanted.trim() === '') fail(where, 'must be true, false or a value');
}

function validateOptionsConditions(value: unknown, where: string, fail: Fail): OptionsConditions {
  const c = mapping(value, OPTION_CONDITIONS, 'an options condition', where, fail);
  if (c.name !== undefined) {
    if (typeof c.name === 'object' && c.name !== null && !Array.isArray(c.name)) {
      const not = mapping(c.name, ['not'], 'a name condition', `${where}.name`, fail);
      if (Array.isArray(not.not)) nonEmpty(not.not, `${where}.name.not`, fail).forEach((name, i) => sandboxValue('name', name, `${where}.name.not[${i}]`, fail));
      else sandboxValue('name', not.not, `${where}.name.not`, fail);
    } else if (typeof c.name === 'string') sandboxValue('name', c.name, `${where}.name`, fail);
    else fail(`${where}.name`, 'a name, or { not: name }, or { not: [names] }');
  }
  if (c.secretCount !== undefined) whole(c.secretCount, 1, LIMITS.secrets, `${where}.secretCount`, fail, `must be a whole number from 1 to ${LIMITS.secrets}`);
  if (c.secretExcludes !== undefined) text(c.secretExcludes, `${where}.secretExcludes`, fail);
  if (c.cookie !== undefined) {
    const cookie = mapping(c.cookie, COOKIE_OPTIONS, 'a cookie condition', `${where}.cookie`, fail);
    for (const [key, wanted] of Object.entries(cookie)) validateCookieValue(key as keyof SandboxOptions['cookie'], wanted, `${where}.cookie.${key}`, fail);
  }
  for (const key of EXACT_OPTIONS) if (c[key] !== undefined) sandboxValue(key, c[key], `${where}.${key}`, fail);
  return c as OptionsConditions;
}

/** An exact value, or { atLeast: n }, { atMost: n } (numbers only), { oneOf: [...] }, { not: value }. */
function validateCookieValue(key: keyof SandboxOptions['cookie'], wanted: unknown, where: string, fail: Fail): void {
  const valueOf = (v: unknown, at: string) => sandboxValue(`cookie.${key}`, v, at, fail);
  if (typeof wanted !== 'object' || wanted === null) return valueOf(wanted, where);
  const forms = Object.keys(wanted);
  const form = forms[0] as (typeof VALUE_FORMS)[number];
  if (Array.isArray(wanted) || forms.length !== 1 || !(VALUE_FORMS as readonly string[]).includes(form)) {
    fail(where, 'a value, or one of { atLeast: n }, { atMost: n }, { oneOf: [...] }, { not: value }');
  }
  const inner = (wanted as Record<string, unknown>)[form];
  if (form === 'oneOf') nonEmpty(array(inner, `${where}.oneOf`, fail), `${where}.oneOf`, fail).forEach((v, i) => valueOf(v, `${where}.oneOf[${i}]`));
  else if (form === 'not') valueOf(inner, `${where}.not`);
  else if (typeof articleOptions.cookie[key] !== 'number') fail(where, `{ ${form}: n } is for numbers; cookie.${key} is not one`);
  else if (typeof inner !== 'number') fail(`${where}.${form}`, 'must be a number');
}

/**
 * The wanted value must be one a sandbox can hold, written as the sandbox holds it ('lax', not
 * 'Lax'): checks compare exactly, so any other spelling could never match.
 */
function sandboxValue(option: string, wanted: unknown, where: string, fail: Fail): void {
  const held = heldValue(option, wanted, where, fail);
  if (held !== wanted) fail(where, `write it as the sandbox holds it: ${JSON.stringify(held)}`);
}

/** What a sandbox holds for `option` (`name`, `cookie.maxAge`…) once given `value`; fails with the sandbox's own message when it would refuse it. */
export function heldValue(option: string, value: unknown, where: string, fail: Fail): unknown {
  const [top, cookieKey] = option.split('.') as [keyof SandboxOptions, (keyof SandboxOptions['cookie'])?];
  try {
    const options = validateOptions(cookieKey ? { cookie: { [cookieKey]: value } } : { [top]: value });
    return cookieKey ? options.cookie[cookieKey] : options[top];
  } catch (err) {
    if (err instanceof OptionsError) return fail(where, `no sandbox can hold this value: ${err.message}`);
    throw err;
  }
}

/** A value from a lesson file in a message: a string as written, anything else by its kind (YAML can make objects no printer handles, even a list that holds itself). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : String(value);
}
