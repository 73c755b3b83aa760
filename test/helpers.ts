// Starts the real app in-process on a free port over a real SQLite file, and offers a tiny
// cookie-keeping client so a test can act like one browser (or several).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { buildApp } from '../server/app.ts';
import { openDatabase, type Database } from '../server/db/database.ts';
import type { Config } from '../server/config.ts';
import type { RegistryLimits } from '../server/sandbox/registry.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import type { SandboxOptions } from '../server/sandbox/options.ts';

export interface RunningLab {
  baseUrl: string;
  databasePath: string;
  db: Database;
  registry: ReturnType<typeof buildApp>['registry'];
  /**
   * Stops this process's app (dropping every in-memory store) and starts a new one on the same file.
   * Use only the returned lab afterwards (it owns the temp folder now; stop that one).
   */
  restart(): Promise<RunningLab>;
  stop(): Promise<void>;
}

export function testConfig(databasePath: string): Config {
  return {
    port: 0,
    host: '127.0.0.1',
    databasePath,
    production: false,
    trustProxy: 0,
    siteSessionSecret: 'test-site-secret-that-is-long-enough-000',
    limits: {},
  };
}

export async function startLab(options: { databasePath?: string; registryLimits?: Partial<RegistryLimits> } = {}): Promise<RunningLab> {
  const dir = options.databasePath ? null : mkdtempSync(join(tmpdir(), 'cookie-lab-test-'));
  const databasePath = options.databasePath ?? join(dir!, 'lab.sqlite');
  return launch(databasePath, dir, options.registryLimits);
}

/** `ownedDir` is the temp folder to remove on stop; it passes to the lab a restart starts. */
async function launch(databasePath: string, ownedDir: string | null, registryLimits: Partial<RegistryLimits> | undefined): Promise<RunningLab> {
  const db = await openDatabase(databasePath);
  const { app, registry } = buildApp({ config: testConfig(databasePath), db, registryLimits });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.close();
  };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    databasePath,
    db,
    registry,
    restart: async () => {
      await stopServer();
      return launch(databasePath, ownedDir, registryLimits);
    },
    stop: async () => {
      await stopServer();
      if (ownedDir) rmSync(ownedDir, { recursive: true, force: true });
    },
  };
}

/**
 * One "browser": keeps the cookies it is sent (name=value only, no path or expiry logic: tests
 * keep to one sandbox per client) and sends them back in a Cookie header.
 */
export class CookieClient {
  readonly jar = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  /** The same browser talking to another server (e.g. the lab after restart()): cookies copied over. */
  at(baseUrl: string): CookieClient {
    const moved = new CookieClient(baseUrl);
    for (const [name, value] of this.jar) moved.jar.set(name, value);
    return moved;
  }

  cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined;
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    const cookie = this.cookieHeader();
    if (cookie && !headers.has('cookie')) headers.set('cookie', cookie);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const res = await fetch(this.baseUrl + path, { ...init, headers, body, redirect: 'manual' });
    for (const header of res.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expires = /expires=([^;]+)/i.exec(header)?.[1];
      if (expires && Date.parse(expires) <= Date.now()) this.jar.delete(name);
      else this.jar.set(name, pair.slice(eq + 1));
    }
    return res;
  }
}

/** Creates a sandbox through the API and returns its id. */
export async function createSandbox(baseUrl: string, options: unknown = {}): Promise<string> {
  const res = await fetch(`${baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(options) });
  if (res.status !== 201) throw new Error(`creating a sandbox failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers over the real HTTP API.

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ApiError {
  error: { field?: string; message: string };
}

/** Any request; the body is parsed as JSON (or left as text when it is not JSON). */
export async function requestJson<T = unknown>(
  baseUrl: string,
  path: string,
  init: { method?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(baseUrl + path, { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text, the test will say so
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function getOptions(baseUrl: string, id: string): Promise<JsonResponse<SandboxOptions>> {
  return requestJson<SandboxOptions>(baseUrl, `/api/sandboxes/${id}/options`);
}

export async function putOptions(baseUrl: string, id: string, patch: unknown): Promise<JsonResponse<SandboxOptions>> {
  return requestJson<SandboxOptions>(baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', json: patch });
}

/** PUTs the patch and fails loudly unless the API accepted it. */
export async function updateOptions(baseUrl: string, id: string, patch: unknown): Promise<SandboxOptions> {
  const res = await putOptions(baseUrl, id, patch);
  if (res.status !== 200) throw new Error(`PUT /api/sandboxes/${id}/options answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function getExchanges(baseUrl: string, id: string): Promise<JsonResponse<{ exchanges: Exchange[] }>> {
  return requestJson<{ exchanges: Exchange[] }>(baseUrl, `/api/sandboxes/${id}/exchanges`);
}

// ---------------------------------------------------------------------------------------------
// Sandbox requests, as one browser.

export type { Exchange };

export interface SandboxReply {
  status: number;
  /** The Set-Cookie headers exactly as the HTTP response carried them. */
  setCookie: string[];
  exchange: Exchange;
}

export interface SandboxRequestOptions {
  /** Extra request headers (e.g. X-Forwarded-Proto, or a hand-made Cookie). */
  headers?: Record<string, string>;
}

async function sandboxCall(client: CookieClient, path: string, init: RequestInit & { json?: unknown }): Promise<SandboxReply> {
  const res = await client.request(path, init);
  const setCookie = res.headers.getSetCookie();
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${text}`);
  return { status: res.status, setCookie, exchange: JSON.parse(text) as Exchange };
}

export function visit(client: CookieClient, id: string, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/visit`, { headers: options.headers });
}

export function write(client: CookieClient, id: string, key: string, value: string | number | boolean, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/write`, { method: 'POST', json: { key, value }, headers: options.headers });
}

export function slow(client: CookieClient, id: string, ms: number, options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/slow?ms=${ms}`, { headers: options.headers });
}

export function act(client: CookieClient, id: string, action: 'regenerate' | 'destroy' | 'unset', options: SandboxRequestOptions = {}): Promise<SandboxReply> {
  return sandboxCall(client, `/sandbox/${id}/${action}`, { method: 'POST', headers: options.headers });
}

/** The store operations an exchange caused, in order (e.g. ['get', 'touch']). */
export function ops(exchange: Exchange): string[] {
  return exchange.storeCalls.map((call) => call.op);
}

/**
 * Changes a sandbox's options the way its page does: the options form (POST /sandbox/:id/options,
 * urlencoded, every field present, checkboxes absent when off). `options` is the complete new set.
 */
export async function submitOptionsForm(baseUrl: string, id: string, options: SandboxOptions): Promise<number> {
  const { cookie } = options;
  const form = new URLSearchParams({
    name: options.name,
    secret: options.secret.join('\n'),
    maxAge: cookie.maxAge === null ? '' : String(cookie.maxAge),
    secure: String(cookie.secure),
    sameSite: cookie.sameSite === false ? '' : String(cookie.sameSite),
    domain: cookie.domain ?? '',
    unset: options.unset,
    proxy: options.proxy === null ? '' : String(options.proxy),
    store: options.store,
  });
  if (cookie.httpOnly) form.set('httpOnly', 'on');
  if (options.resave) form.set('resave', 'on');
  if (options.saveUninitialized) form.set('saveUninitialized', 'on');
  if (options.rolling) form.set('rolling', 'on');
  const res = await fetch(`${baseUrl}/sandbox/${id}/options`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: form.toString(),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`the options form for ${id} answered ${res.status}`);
  return res.status;
}

