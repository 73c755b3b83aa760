// A lab like test/helpers.ts's startLab(), with the knobs these tests need: low rate limits, a
// short SQLite busy timeout, registry limits. The real app (buildApp) on a real SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import assert from 'node:assert/strict';
import { buildApp } from '../../server/app.ts';
import { openDatabase, type Database } from '../../server/db/database.ts';
import type { Limits } from '../../server/http/rate-limits.ts';
import type { Config } from '../../server/config.ts';
import type { RegistryLimits } from '../../server/sandbox/registry.ts';
import type { Exchange } from '../../server/sandbox/model.ts';
import type { SandboxOptions } from '../../server/sandbox/options.ts';
import { testConfig } from '../helpers.ts';

export interface CustomLab {
  baseUrl: string;
  databasePath: string;
  db: Database;
  registry: ReturnType<typeof buildApp>['registry'];
  progress: ReturnType<typeof buildApp>['progress'];
  server: Server;
  stop(): Promise<void>;
}

export interface CustomLabOptions {
  /** Over testConfig(): e.g. production, trustProxy. */
  config?: Partial<Config>;
  limits?: Partial<Limits>;
  registryLimits?: Partial<RegistryLimits>;
  busyTimeoutMs?: number;
}

export async function startCustomLab(options: CustomLabOptions = {}): Promise<CustomLab> {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-sec-'));
  const databasePath = join(dir, 'lab.sqlite');
  const db = await openDatabase(databasePath, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const { app, registry, progress } = buildApp({ config: { ...testConfig(databasePath), ...options.config }, db, limits: options.limits, registryLimits: options.registryLimits });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    databasePath,
    db,
    registry,
    progress,
    server,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One raw HTTP request: no cookie jar, no redirects followed; the body kept as text and JSON (when it is). */
export async function send(baseUrl: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(baseUrl + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body, redirect: 'manual' });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function sendJson(baseUrl: string, path: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(baseUrl, path, { method, headers: { accept: 'application/json', 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function sendForm(baseUrl: string, path: string, form: URLSearchParams | string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(baseUrl, path, {
    method: 'POST',
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof form === 'string' ? form : form.toString(),
  });
}

/** A stack trace or a Node internal error text must never reach a client. */
export function assertNoLeak(answer: Answer): void {
  assert.doesNotMatch(answer.text, /\bat [^\n]*\.(ts|js):\d+|node:internal|ERR_HTTP_HEADERS_SENT|TypeError|ReferenceError/, `a stack or internal error leaked: ${answer.text.slice(0, 400)}`);
}

/**
 * A rejected request's answer: a 4xx (never 500), and a message naming the problem, as JSON
 * `error.message` or as an HTML page or fragment with a message.
 */
export function assertRejected(answer: Answer, context: string): string {
  assert.ok(answer.status >= 400 && answer.status < 500, `${context}: expected a 4xx, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  assertNoLeak(answer);
  const type = answer.headers.get('content-type') ?? '';
  if (/json/.test(type)) {
    const message = (answer.json as { error?: { message?: unknown } } | undefined)?.error?.message;
    assert.equal(typeof message, 'string', `${context}: no error.message in ${answer.text.slice(0, 300)}`);
    assert.ok((message as string).length > 5, `${context}: an empty message`);
    return message as string;
  }
  assert.match(type, /html/, `${context}: neither JSON nor HTML (${type})`);
  const message = /role="alert"[^>]*>([\s\S]*?)<\/(p|div)>/.exec(answer.text)?.[1]?.replace(/<[^>]+>/g, '').trim();
  assert.ok(message && message.length > 5, `${context}: no message in the HTML answer: ${answer.text.slice(0, 300)}`);
  return message;
}

export async function healthy(baseUrl: string): Promise<void> {
  const res = await send(baseUrl, '/healthz');
  assert.equal(res.status, 200, `/healthz answered ${res.status}`);
  assert.equal((res.json as { status?: string }).status, 'ok');
}

export async function options(baseUrl: string, id: string): Promise<SandboxOptions> {
  const res = await send(baseUrl, `/api/sandboxes/${id}/options`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200, `GET options of ${id}: ${res.status} ${res.text}`);
  return res.json as SandboxOptions;
}

export async function exchanges(baseUrl: string, id: string): Promise<Exchange[]> {
  const res = await send(baseUrl, `/api/sandboxes/${id}/exchanges`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200, `GET exchanges of ${id}: ${res.status} ${res.text}`);
  return (res.json as { exchanges: Exchange[] }).exchanges;
}

/** What a rejected request must leave alone: the options and the exchanges (by number). */
export async function snapshot(baseUrl: string, id: string): Promise<{ options: SandboxOptions; exchangeNumbers: number[] }> {
  return { options: await options(baseUrl, id), exchangeNumbers: (await exchanges(baseUrl, id)).map((e) => e.number) };
}

export async function createSandboxWith(baseUrl: string, body: unknown = {}): Promise<string> {
  const res = await sendJson(baseUrl, '/api/sandboxes', 'POST', body);
  assert.equal(res.status, 201, `creating a sandbox: ${res.status} ${res.text}`);
  return (res.json as { id: string }).id;
}

/** The first name=value pair of each Set-Cookie header. */
export function cookiePairs(setCookie: string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const header of setCookie) {
    const pair = header.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0) pairs.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return pairs;
}

/** A request with the path exactly as given (fetch would normalize dots and encode characters). */
export function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, headers: { accept: 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
