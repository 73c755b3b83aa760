// Requests to a lab over real HTTP: a cookie-keeping client that acts like one browser, one raw
// request helper every other helper goes through, the JSON API, the options form, and the checks
// every answer must pass (no leaked stack, a 4xx with a message when refused).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Exchange } from '../../server/sandbox/model.ts';
import type { SandboxOptions } from '../../server/sandbox/options.ts';

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

  /** The server the next request goes to (a client of several instances picks one per request). */
  protected nextBaseUrl(): string {
    return this.baseUrl;
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
    const res = await fetch(this.nextBaseUrl() + path, { ...init, headers, body, redirect: 'manual' });
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

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: T;
}

export interface SendInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Sent as the JSON body (with its content type, unless `headers` names another). */
  json?: unknown;
}

/** One request: no cookie jar, no redirects followed; the body kept as text and as JSON (when it is). */
export async function send<T = unknown>(baseUrl: string, path: string, init: SendInit = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  return toAnswer<T>(await fetch(baseUrl + path, { method: init.method ?? 'GET', headers, body, redirect: 'manual' }));
}

/** A response read whole: its body as text, and as JSON when it is. */
export async function toAnswer<T = unknown>(res: Response): Promise<Answer<T>> {
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the text is there, the test will say so
  }
  return { status: res.status, headers: res.headers, text, json: json as T };
}

/** The inner HTML of a page's refusal (its role="alert" element), or undefined. */
export function alertHtml(html: string): string | undefined {
  return /role="alert"[^>]*>([\s\S]*?)<\/(p|div)>/.exec(html)?.[1];
}

/** A request that asks for JSON (the API, or a sandbox action answered as JSON). */
export function requestJson<T = unknown>(baseUrl: string, path: string, init: SendInit = {}): Promise<Answer<T>> {
  return send<T>(baseUrl, path, { ...init, headers: { accept: 'application/json', ...init.headers } });
}

export function sendForm(baseUrl: string, path: string, form: URLSearchParams | string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(baseUrl, path, {
    method: 'POST',
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof form === 'string' ? form : form.toString(),
  });
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

// ---------------------------------------------------------------------------------------------
// The JSON API.

export interface ApiError {
  error: { field?: string; message: string };
}

/** Creates a sandbox through the API and returns its id. */
export async function createSandbox(baseUrl: string, options: unknown = {}): Promise<string> {
  const res = await requestJson<{ id: string }>(baseUrl, '/api/sandboxes', { method: 'POST', json: options });
  assert.equal(res.status, 201, `creating a sandbox: ${res.status} ${res.text}`);
  return res.json.id;
}

export function getOptions(baseUrl: string, id: string): Promise<Answer<SandboxOptions>> {
  return requestJson<SandboxOptions>(baseUrl, `/api/sandboxes/${id}/options`);
}

/** The options, failing loudly unless the API answered them. */
export async function readOptions(baseUrl: string, id: string): Promise<SandboxOptions> {
  const res = await getOptions(baseUrl, id);
  assert.equal(res.status, 200, `GET options of ${id}: ${res.status} ${res.text}`);
  return res.json;
}

export function putOptions(baseUrl: string, id: string, patch: unknown): Promise<Answer<SandboxOptions>> {
  return requestJson<SandboxOptions>(baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', json: patch });
}

/** PUTs the patch and fails loudly unless the API accepted it. */
export async function updateOptions(baseUrl: string, id: string, patch: unknown): Promise<SandboxOptions> {
  const res = await putOptions(baseUrl, id, patch);
  assert.equal(res.status, 200, `PUT /api/sandboxes/${id}/options answered ${res.status}: ${res.text}`);
  return res.json;
}

export function getExchanges(baseUrl: string, id: string): Promise<Answer<{ exchanges: Exchange[] }>> {
  return requestJson<{ exchanges: Exchange[] }>(baseUrl, `/api/sandboxes/${id}/exchanges`);
}

/** The recorded exchanges, oldest first, failing loudly unless the API answered them. */
export async function readExchanges(baseUrl: string, id: string): Promise<Exchange[]> {
  const res = await getExchanges(baseUrl, id);
  assert.equal(res.status, 200, `GET exchanges of ${id}: ${res.status} ${res.text}`);
  return res.json.exchanges;
}

/** What a rejected request must leave alone: the options and the exchanges (by number). */
export async function snapshot(baseUrl: string, id: string): Promise<{ options: SandboxOptions; exchangeNumbers: number[] }> {
  return { options: await readOptions(baseUrl, id), exchangeNumbers: (await readExchanges(baseUrl, id)).map((e) => e.number) };
}

export async function healthy(baseUrl: string): Promise<void> {
  const res = await send<{ status?: string }>(baseUrl, '/healthz');
  assert.equal(res.status, 200, `/healthz answered ${res.status}`);
  assert.equal(res.json.status, 'ok');
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
  const res = await sendForm(baseUrl, `/sandbox/${id}/options`, form);
  assert.equal(res.status, 303, `the options form for ${id} answered ${res.status}`);
  return res.status;
}

// ---------------------------------------------------------------------------------------------
// What every answer must be.

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
  const message = alertHtml(answer.text)?.replace(/<[^>]+>/g, '').trim();
  assert.ok(message && message.length > 5, `${context}: no message in the HTML answer: ${answer.text.slice(0, 300)}`);
  return message;
}
