// What each sandbox request does to its session, and the checks on its input that run before
// express-session sees the request (a rejected request must not touch the session).
import session from 'express-session';
import type { Request, RequestHandler, Response } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { PREDICTED_COOKIE, PREDICTED_STORE, type SandboxAction } from './model.ts';
import type { ActionRunner } from '../exchange/recorder.ts';
import { HttpError } from '../http/http-error.ts';

export const MAX_SLOW_MS = 5000;
export const MAX_VALUE_LENGTH = 2000;
/** A session larger than this (as JSON) takes no more writes: every exchange keeps copies of it. */
export const MAX_SESSION_BYTES = 16 * 1024;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Names a session value may not take: express-session keeps its own methods and `cookie`, `id`,
 * `req` on the session object, and skips any stored key already present on it when it reloads.
 */
const RESERVED_KEYS = new Set([
  'cookie',
  'id',
  'req',
  'prototype',
  ...Object.getOwnPropertyNames(session.Session.prototype),
  ...Object.getOwnPropertyNames(Object.prototype),
]);

export type SessionValue = string | number | boolean;

export const actions: Record<SandboxAction, ActionRunner> = {
  visit: () => {},
  write: (req, res) => {
    const { key, value } = res.locals.write as { key: string; value: SessionValue };
    const session = req.session as unknown as Record<string, SessionValue>;
    const grown = JSON.stringify({ ...session, [key]: value }).length;
    if (grown > MAX_SESSION_BYTES) {
      throw new HttpError(413, `not written: the session would hold ${grown} bytes of JSON, over the lab's ${MAX_SESSION_BYTES}; destroy or regenerate it to start afresh`, 'key');
    }
    session[key] = value;
  },
  slow: async (_req, res) => {
    await sleep(res.locals.slowMs as number);
  },
  regenerate: (req) => new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(storeError('regenerate', err)) : resolve()))),
  destroy: (req) => new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(storeError('destroy', err)) : resolve()))),
  unset: (req) => {
    (req as unknown as { session: null }).session = null;
  },
};

function storeError(op: string, err: unknown): Error {
  return new Error(`the session store failed during ${op}: ${err instanceof Error ? err.message : String(err)}`);
}

/** Reads `key` and `value` from a form or JSON body into res.locals.write, or answers 400. */
export const readWriteInput: RequestHandler = (req, res, next) => {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'send key and value as a form or as JSON', 'key');
  const { key, value } = body as Record<string, unknown>;
  if (typeof key !== 'string' || key === '') throw new HttpError(400, 'key is required: the name to store the value under', 'key');
  if (!KEY.test(key)) throw new HttpError(400, 'key must start with a letter or _ and use only letters, digits, _ and - (at most 64)', 'key');
  if (RESERVED_KEYS.has(key)) throw new HttpError(400, `key "${key}" is reserved: express-session keeps its own "${key}" on the session`, 'key');
  if (value === undefined) throw new HttpError(400, 'value is required', 'value');
  if (typeof value === 'string' && value.length > MAX_VALUE_LENGTH) {
    throw new HttpError(400, `value must be at most ${MAX_VALUE_LENGTH} characters`, 'value');
  }
  if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
    throw new HttpError(400, 'value must be a string, a number or a boolean', 'value');
  }
  res.locals.write = { key, value };
  next();
};

/** Reads `ms` from the query string into res.locals.slowMs, or answers 400. */
export const readSlowInput: RequestHandler = (req: Request, res: Response, next) => {
  const raw = req.query.ms;
  const ms = raw === undefined ? 2000 : typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(ms) || ms > MAX_SLOW_MS) {
    throw new HttpError(400, `ms must be a whole number of milliseconds from 0 to ${MAX_SLOW_MS}`, 'ms');
  }
  res.locals.slowMs = ms;
  next();
};

/**
 * Reads an optional prediction (`predictCookie`, `predictStore`, from the form or the query string)
 * into res.locals.prediction; a value that is not one of the choices is a 400.
 */
export const readPrediction: RequestHandler = (req, res, next) => {
  const source = (req.method === 'GET' ? req.query : (req.body ?? {})) as Record<string, unknown>;
  const pick = <T extends string>(field: string, choices: readonly T[]): T | null => {
    const value = source[field];
    if (value === undefined || value === '') return null;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      throw new HttpError(400, `${field} must be one of: ${choices.join(', ')} (or left out)`, field);
    }
    return value as T;
  };
  const prediction = { cookie: pick('predictCookie', PREDICTED_COOKIE), store: pick('predictStore', PREDICTED_STORE) };
  if (prediction.cookie !== null || prediction.store !== null) res.locals.prediction = prediction;
  next();
};
