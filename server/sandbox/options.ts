// A sandbox's express-session options: their schema, the article's defaults, and validation that
// keeps every value express-session or the `cookie` package would throw on from ever reaching them.
import type { CookieOptions, SessionOptions, Store } from 'express-session';

export type SameSite = false | true | 'lax' | 'strict' | 'none' | 'auto';

/**
 * Where a sandbox keeps its sessions: express-session's MemoryStore (per process), the lab's own
 * database (SQLite, or PostgreSQL when the lab runs as several instances), or Redis (when the lab
 * has one: REDIS_URL).
 */
export const STORE_KINDS = ['memory', 'database', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/**
 * The CORS answer the sandbox gives a fetch from another origin (the second site's fetch buttons
 * only: server/routes/cross-site.ts): 'off' sends no Access-Control-* header, '*' any origin,
 * 'echo' the request's own Origin (what the cors package's `origin: true` does).
 */
export const CORS_ORIGINS = ['off', '*', 'echo'] as const;
export type CorsOrigin = (typeof CORS_ORIGINS)[number];

export interface SandboxOptions {
  name: string;
  /** The first secret signs; every one of them verifies (rotation). */
  secret: string[];
  cookie: {
    maxAge: number | null;
    secure: boolean | 'auto';
    httpOnly: boolean;
    sameSite: SameSite;
    domain: string | null;
  };
  resave: boolean;
  saveUninitialized: boolean;
  rolling: boolean;
  unset: 'keep' | 'destroy';
  /** null leaves it unset, so express-session falls back to Express's `trust proxy`. */
  proxy: boolean | null;
  store: StoreKind;
  /** Access-Control-Allow-Origin on the answer to a fetch from the second site. */
  corsOrigin: CorsOrigin;
  /** Access-Control-Allow-Credentials: true on that answer (with an origin other than 'off'). */
  corsCredentials: boolean;
}

/** The article's configuration, and express-session's defaults for what the article leaves out. */
export const articleOptions: SandboxOptions = Object.freeze({
  name: 'mycookie',
  secret: ['cookiesaregood'],
  cookie: { maxAge: 1000 * 60 * 60, secure: false, httpOnly: true, sameSite: false, domain: null },
  resave: false,
  saveUninitialized: false,
  rolling: false,
  unset: 'keep',
  proxy: null,
  store: 'memory',
  corsOrigin: 'off',
  corsCredentials: false,
}) as SandboxOptions;

/** The lab's own session cookie: a sandbox may not impersonate it. */
export const SITE_COOKIE_NAME = 'cookielab.sid';

export const LIMITS = {
  nameLength: 64,
  secretLength: 256,
  secrets: 5,
  /** Ten years: far past Chromium's 400-day cap (worth seeing), well inside what a Date can hold. */
  maxAge: 10 * 365 * 24 * 60 * 60 * 1000,
} as const;

export class OptionsError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

// The same patterns the `cookie` package (0.7) checks in serialize(), so nothing we accept throws there.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DOMAIN = /^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const OBJECT_BUILTINS = new Set(Object.getOwnPropertyNames(Object.prototype));

const TOP_LEVEL = ['name', 'secret', 'cookie', 'resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store', 'corsOrigin', 'corsCredentials'] as const;
const COOKIE_FIELDS = ['maxAge', 'secure', 'httpOnly', 'sameSite', 'domain'] as const;

/**
 * Applies `input` (all or some of the options, shaped as express-session takes them) over `base`.
 * Throws OptionsError naming the first bad field; returns a fresh, normalized object.
 */
export function validateOptions(input: unknown, base: SandboxOptions = articleOptions): SandboxOptions {
  const patch = plainObject(input, 'options');
  for (const key of Object.keys(patch)) {
    if (!(TOP_LEVEL as readonly string[]).includes(key)) {
      throw new OptionsError(key, `unknown option "${key}"; the options are: ${TOP_LEVEL.join(', ')}`);
    }
  }
  const cookiePatch = patch.cookie === undefined ? {} : plainObject(patch.cookie, 'cookie');
  for (const key of Object.keys(cookiePatch)) {
    if (key === 'path') {
      throw new OptionsError('cookie.path', "cookie.path is fixed to the sandbox's own path, so sandboxes never share cookies");
    }
    if (!(COOKIE_FIELDS as readonly string[]).includes(key)) {
      throw new OptionsError(`cookie.${key}`, `unknown cookie option "${key}"; the cookie options are: ${COOKIE_FIELDS.join(', ')}`);
    }
  }
  const pick = <T>(value: unknown, fallback: T, check: (v: unknown) => T): T => (value === undefined ? fallback : check(value));
  return {
    name: pick(patch.name, base.name, checkName),
    secret: pick(patch.secret, [...base.secret], checkSecret),
    cookie: {
      maxAge: pick(cookiePatch.maxAge, base.cookie.maxAge, checkMaxAge),
      secure: pick(cookiePatch.secure, base.cookie.secure, checkSecure),
      httpOnly: pick(cookiePatch.httpOnly, base.cookie.httpOnly, (v) => checkBoolean(v, 'cookie.httpOnly')),
      sameSite: pick(cookiePatch.sameSite, base.cookie.sameSite, checkSameSite),
      domain: pick(cookiePatch.domain, base.cookie.domain, checkDomain),
    },
    resave: pick(patch.resave, base.resave, (v) => checkBoolean(v, 'resave')),
    saveUninitialized: pick(patch.saveUninitialized, base.saveUninitialized, (v) => checkBoolean(v, 'saveUninitialized')),
    rolling: pick(patch.rolling, base.rolling, (v) => checkBoolean(v, 'rolling')),
    unset: pick(patch.unset, base.unset, (v) => checkOneOf(v, 'unset', ['keep', 'destroy'] as const)),
    proxy: pick(patch.proxy, base.proxy, checkProxy),
    store: pick(patch.store, base.store, checkStore),
    // Sandboxes stored before these options existed have none: the lab's default, no CORS.
    corsOrigin: pick(patch.corsOrigin, base.corsOrigin ?? 'off', (v) => checkOneOf(v, 'corsOrigin', CORS_ORIGINS)),
    corsCredentials: pick(patch.corsCredentials, base.corsCredentials ?? false, (v) => checkBoolean(v, 'corsCredentials')),
  };
}

/** The options express-session is given: the learner's, plus the path that fences the sandbox in. */
export function toSessionOptions(options: SandboxOptions, path: string, store: Store): SessionOptions {
  const { maxAge, secure, httpOnly, sameSite, domain } = options.cookie;
  return {
    name: options.name,
    secret: options.secret,
    cookie: {
      path,
      httpOnly,
      secure,
      ...(maxAge === null ? {} : { maxAge }),
      // express-session 1.19 accepts 'auto' here; @types/express-session does not list it yet.
      ...(sameSite === false ? {} : { sameSite: sameSite as CookieOptions['sameSite'] }),
      ...(domain === null ? {} : { domain }),
    },
    resave: options.resave,
    saveUninitialized: options.saveUninitialized,
    rolling: options.rolling,
    unset: options.unset,
    ...(options.proxy === null ? {} : { proxy: options.proxy }),
    store,
  };
}

function plainObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError(field, `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

function checkName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new OptionsError('name', 'name must be a non-empty string');
  if (value.length > LIMITS.nameLength) throw new OptionsError('name', `name must be at most ${LIMITS.nameLength} characters`);
  if (!COOKIE_NAME.test(value)) {
    throw new OptionsError('name', 'name may use only letters, digits and ! # $ % & \' * + - . ^ _ ` | ~ (no spaces, quotes, commas, semicolons, = or brackets)');
  }
  if (value === SITE_COOKIE_NAME) throw new OptionsError('name', `name "${SITE_COOKIE_NAME}" is the lab's own session cookie; pick another`);
  // The cookie package parses into a plain object, so express-session would read a built-in
  // ("constructor", "toString") instead of a cookie and fail on every request.
  if (OBJECT_BUILTINS.has(value)) throw new OptionsError('name', `name "${value}" is a built-in JavaScript property name, which express-session cannot read back; pick another`);
  return value;
}

function checkSecret(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new OptionsError('secret', 'secret must list at least one secret');
  if (list.length > LIMITS.secrets) throw new OptionsError('secret', `secret may list at most ${LIMITS.secrets} secrets`);
  return list.map((secret, index) => {
    const field = Array.isArray(value) ? `secret[${index}]` : 'secret';
    if (typeof secret !== 'string') throw new OptionsError(field, `${field} must be a string`);
    if (secret.trim() === '') throw new OptionsError(field, `${field} must not be empty`);
    if (secret.length > LIMITS.secretLength) throw new OptionsError(field, `${field} must be at most ${LIMITS.secretLength} characters`);
    return secret;
  });
}

function checkMaxAge(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new OptionsError('cookie.maxAge', 'cookie.maxAge must be a whole number of milliseconds, or null for a browser-session cookie');
  }
  if (value < 0) throw new OptionsError('cookie.maxAge', 'cookie.maxAge must not be negative');
  if (value > LIMITS.maxAge) throw new OptionsError('cookie.maxAge', `cookie.maxAge must be at most ${LIMITS.maxAge} (ten years in milliseconds)`);
  return value;
}

function checkSecure(value: unknown): boolean | 'auto' {
  if (value === true || value === false || value === 'auto') return value;
  throw new OptionsError('cookie.secure', 'cookie.secure must be true, false or "auto"');
}

function checkSameSite(value: unknown): SameSite {
  if (value === null || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'string' && ['lax', 'strict', 'none', 'auto'].includes(value.toLowerCase())) {
    return value.toLowerCase() as SameSite;
  }
  throw new OptionsError('cookie.sameSite', 'cookie.sameSite must be false (not sent), true (Strict), "lax", "strict", "none" or "auto"');
}

function checkDomain(value: unknown): string | null {
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > 253 || !DOMAIN.test(value)) {
    throw new OptionsError('cookie.domain', 'cookie.domain must be a host name such as "example.com" (letters, digits, hyphens and dots), or null');
  }
  return value.toLowerCase();
}

function checkProxy(value: unknown): boolean | null {
  if (value === null || value === true || value === false) return value;
  throw new OptionsError('proxy', "proxy must be true, false, or null (use Express's trust proxy setting)");
}

function checkStore(value: unknown): StoreKind {
  // The database store was called "sqlite" before the lab could run on PostgreSQL: links and
  // stored options that say so (or name the engine) mean the lab's own database.
  if (value === 'sqlite' || value === 'postgres') return 'database';
  return checkOneOf(value, 'store', STORE_KINDS);
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new OptionsError(field, `${field} must be true or false`);
  return value;
}

function checkOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new OptionsError(field, `${field} must be one of: ${allowed.map((a) => `"${a}"`).join(', ')}`);
}
