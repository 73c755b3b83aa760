// Security headers on every kind of answer (pages, error pages, JSON, htmx fragments, redirects,
// static files), pages that need no inline code, and the site's own session cookie set the way
// the lessons recommend.
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { course, watchConsoleErrors, type ErrorLog } from './support/watch.ts';
import { COOKIE_RENEWAL_MS } from '../server/stores/site-session.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, send, requestJson, createSandbox, type Answer } from './support/http.ts';

let lab: Lab;
let log: ErrorLog;
/** As deployed: production, behind a TLS-terminating proxy that sets X-Forwarded-Proto. */
let production: Lab;
before(async () => {
  // express-rate-limit complains about `trust proxy: true` (see docs/security.md, known gaps).
  log = watchConsoleErrors({ quiet: true });
  [lab, production] = await Promise.all([startLab(), startLab({ config: { production: true, trustProxy: 1 } })]);
});
after(async () => {
  log.restore();
  await Promise.all([lab.stop(), production.stop()]);
});

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

/** The headers every answer carries; `frameAncestors` is 'none' except for the cookie-probe frame. */
function assertSecurityHeaders(answer: Answer, what: string, frameAncestors = "'none'"): void {
  const csp = answer.headers.get('content-security-policy');
  assert.ok(csp, `${what}: no Content-Security-Policy`);
  const policy = directives(csp);
  assert.deepEqual(policy.get('script-src'), ["'self'"], `${what}: script-src is ${policy.get('script-src')?.join(' ')}`);
  assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes|\*|data:|http:|https:/.test(policy.get('script-src')!.join(' ')));
  assert.ok(!/'unsafe-inline'|'unsafe-eval'/.test(csp), `${what}: the policy allows unsafe code: ${csp}`);
  assert.deepEqual(policy.get('frame-ancestors'), [frameAncestors], `${what}: frame-ancestors`);
  assert.deepEqual(policy.get('object-src'), ["'none'"], `${what}: object-src`);
  assert.deepEqual(policy.get('base-uri'), ["'none'"], `${what}: base-uri`);
  assert.ok(policy.get('default-src')?.includes("'self'"), `${what}: default-src`);
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  const referrer = answer.headers.get('referrer-policy');
  assert.ok(referrer && /^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/.test(referrer), `${what}: Referrer-Policy ${referrer}`);
  assert.equal(answer.headers.get('x-powered-by'), null, `${what}: X-Powered-By gives the framework away`);
}

/** CSP without 'unsafe-inline' only works if the page needs none: no inline scripts, handlers or styles. */
function assertNoInlineCode(html: string, what: string): void {
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/static\//, `${what}: an inline or foreign script: ${tag}`);
  assert.doesNotMatch(html, /<[a-z][^>]*\son[a-z]+\s*=/i, `${what}: an inline event handler`);
  assert.doesNotMatch(html, /<[a-z][^>]*\sstyle\s*=/i, `${what}: an inline style attribute`);
  assert.doesNotMatch(html, /<style\b/i, `${what}: an inline style element`);
  assert.doesNotMatch(html, /\shx-on[:-]/i, `${what}: an hx-on attribute needs eval`);
  // Links to documentation elsewhere are fine; nothing the page loads comes from another origin.
  assert.doesNotMatch(html, /\ssrc="(https?:)?\/\//i, `${what}: a resource from another origin`);
  assert.doesNotMatch(html, /<link\b[^>]*\shref="(https?:)?\/\//i, `${what}: a stylesheet or icon from another origin`);
}

describe('security headers', () => {
  it('are on every page, error page, JSON answer, fragment, redirect and static file', async () => {
    const lesson = course()[0]!;
    const id = await createSandbox(lab.baseUrl);
    const learner = new CookieClient(lab.baseUrl);
    const html = { accept: 'text/html' };
    const json = { accept: 'application/json' };
    const answers: [string, Answer][] = [];
    const get = async (what: string, path: string, headers: Record<string, string> = html) => {
      const answer = await send(lab.baseUrl, path, { headers: { ...headers, ...(learner.cookieHeader() ? { cookie: learner.cookieHeader()! } : {}) } });
      for (const header of answer.headers.getSetCookie()) learner.jar.set(header.split('=')[0]!, header.slice(header.indexOf('=') + 1).split(';')[0]!);
      answers.push([what, answer]);
      return answer;
    };
    assert.equal((await get('home page', '/')).status, 200);
    assert.equal((await get('course page', '/lessons')).status, 200);
    assert.equal((await get('lesson page', `/lessons/${lesson.slug}`)).status, 200);
    assert.equal((await get('progress page', '/progress')).status, 200);
    assert.equal((await get('progress export', '/progress/export', json)).status, 200);
    assert.equal((await get('sandbox page', `/sandbox/${id}`)).status, 200);
    assert.equal((await get('sandbox visit (JSON)', `/sandbox/${id}/visit`, json)).status, 200);
    assert.equal((await get('sandbox visit (htmx fragment)', `/sandbox/${id}/visit`, { ...html, 'hx-request': 'true' })).status, 200);
    assert.equal((await get('sandbox visit (no-JS redirect)', `/sandbox/${id}/visit`)).status, 303);
    assert.equal((await get('new sandbox redirect', '/lab')).status, 303);
    assert.equal((await get('favicon redirect', '/favicon.ico')).status, 301);
    assert.equal((await get('options (JSON API)', `/api/sandboxes/${id}/options`, json)).status, 200);
    assert.equal((await get('exchanges (JSON API)', `/api/sandboxes/${id}/exchanges`, json)).status, 200);
    assert.equal((await get('health check', '/healthz', json)).status, 200);
    assert.equal((await get('404 page', '/no/such/page')).status, 404);
    assert.equal((await get('404 JSON', '/api/sandboxes/AAAAAAAAAAAAAAAAAAAAAA/options', json)).status, 404);
    assert.equal((await get('unknown lesson', '/lessons/no-such-lesson')).status, 404);
    assert.equal((await get('400 JSON', `/sandbox/${id}/slow?ms=nope`, json)).status, 400);
    assert.equal((await get('400 fragment', `/sandbox/${id}/slow?ms=nope`, { ...html, 'hx-request': 'true' })).status, 400);
    assert.equal((await get('stylesheet', '/static/app.css')).status, 200);
    assert.equal((await get('htmx', '/static/htmx.min.js')).status, 200);
    assert.equal((await get('probe script', '/static/cookie-probe.js')).status, 200);
    assert.equal((await get('favicon', '/static/favicon.svg')).status, 200);
    assert.equal((await get('missing static file', '/static/nope.js')).status, 404);
    const created = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: {} });
    answers.push(['201 JSON', created]);
    const refused = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { name: 'has space' } });
    answers.push(['400 JSON from the API', refused]);
    const tooBig = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { padding: 'x'.repeat(20_000) } });
    answers.push(['413 JSON', tooBig]);
    const badForm = await send(lab.baseUrl, `/sandbox/${id}/options`, { method: 'POST', headers: { ...html, 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=has+space' });
    answers.push(['400 options form page', badForm]);
    assert.equal(badForm.status, 400);
    for (const [what, answer] of answers) {
      assertSecurityHeaders(answer, `${what} (${answer.status})`);
      if (/text\/html/.test(answer.headers.get('content-type') ?? '')) assertNoInlineCode(answer.text, what);
    }
    // JSON is served as JSON (with nosniff, a browser never renders it as a page).
    for (const [what, answer] of answers.filter(([w]) => /JSON/.test(w))) assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, what);
  });

  it('the cookie-probe frame may be framed by the lab itself only, with the same strict script policy', async () => {
    const id = await createSandbox(lab.baseUrl);
    const frame = await send(lab.baseUrl, `/sandbox/${id}/frame`, { headers: { accept: 'text/html' } });
    assert.equal(frame.status, 200);
    assertSecurityHeaders(frame, 'probe frame', "'self'");
    assertNoInlineCode(frame.text, 'probe frame');
  });

  it('Strict-Transport-Security is sent in production, and not over plain local HTTP', async () => {
    const local = await send(lab.baseUrl, '/');
    assert.equal(local.headers.get('strict-transport-security'), null);
    const answer = await send(production.baseUrl, '/', { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(answer.headers.get('strict-transport-security') ?? '', /max-age=\d{7,}/);
    assertSecurityHeaders(answer, 'production home page');
  });
});

describe('the site\'s own session cookie', () => {
  it('is not set until there is something to keep', async () => {
    for (const path of ['/', '/lessons', '/progress', '/static/app.css', '/healthz']) {
      const answer = await send(lab.baseUrl, path, { headers: { accept: 'text/html' } });
      assert.deepEqual(answer.headers.getSetCookie(), [], `${path} set a cookie`);
    }
  });

  it('on the first lesson visit: cookielab.sid, signed, HttpOnly, SameSite=Lax, Path=/, with an Expires about 30 days out', async () => {
    const lesson = course()[0]!;
    const sentAt = Date.now();
    const answer = await send(lab.baseUrl, `/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } });
    const answeredAt = Date.now();
    assert.equal(answer.status, 200);
    const cookies = answer.headers.getSetCookie().filter((c) => c.startsWith('cookielab.sid='));
    assert.equal(cookies.length, 1, `Set-Cookie: ${answer.headers.getSetCookie().join(' | ')}`);
    const [pair, ...attributes] = cookies[0]!.split(';').map((part) => part.trim());
    const attr = new Map(attributes.map((a) => [a.split('=')[0]!.toLowerCase(), a.includes('=') ? a.slice(a.indexOf('=') + 1) : true] as const));
    const name = pair!.split('=')[0]!;
    assert.equal(name, 'cookielab.sid');
    assert.ok(!['connect.sid', 'sid', 'session'].includes(name), 'not a default name that gives the library away');
    assert.match(pair!, /^cookielab\.sid=s%3A[A-Za-z0-9_-]{32}\.[A-Za-z0-9%+/=]+$/, 'a signed session id, nothing else');
    assert.equal(attr.get('httponly'), true, 'HttpOnly');
    assert.equal(String(attr.get('samesite')).toLowerCase(), 'lax', 'SameSite=Lax');
    assert.equal(attr.get('path'), '/', 'Path=/');
    const expires = Date.parse(String(attr.get('expires')));
    assert.ok(Number.isFinite(expires), 'has an Expires');
    // 30 days after the request was handled (between sending it and its answer), to the second.
    const thirtyDays = (at: number) => Math.floor((at + 30 * 86_400_000) / 1000) * 1000;
    assert.ok(expires >= thirtyDays(sentAt) && expires <= thirtyDays(answeredAt), `Expires ${new Date(expires).toISOString()} is not 30 days out`);
    assert.equal(attr.has('domain'), false, 'host-only: no Domain');
    // Over plain local HTTP, secure:'auto' leaves Secure off (it would be dropped by the browser otherwise).
    assert.equal(attr.has('secure'), false);
  });

  it('renews its Expires once a day, not on every answer, and keeps the same session', async () => {
    const lesson = course()[0]!;
    const siteCookie = (answer: Answer) => answer.headers.getSetCookie().find((c) => c.startsWith('cookielab.sid='));
    const expiresIn = (cookie: string) => (Date.parse(/;\s*Expires=([^;]+)/i.exec(cookie)![1]!) - Date.now()) / 86_400_000;
    const first = siteCookie(await send(lab.baseUrl, `/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } }));
    assert.ok(first, 'the first lesson visit sets the cookie');
    const pair = first.split(';')[0]!;
    const visit = async (path: string) => {
      const answer = await send(lab.baseUrl, path, { headers: { accept: 'text/html', cookie: pair } });
      assert.equal(answer.status, 200, path);
      return siteCookie(answer);
    };
    for (const path of [`/lessons/${lesson.slug}`, '/lessons', '/progress', `/lessons/${lesson.slug}`]) {
      assert.equal(await visit(path), undefined, `${path} re-sent a cookie the browser already has`);
    }
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      mock.timers.tick(COOKIE_RENEWAL_MS - 60_000);
      assert.equal(await visit('/lessons'), undefined, 'renewed before a day had passed');
      mock.timers.tick(120_000);
      const renewed = await visit('/lessons');
      assert.ok(renewed, 'not renewed after a day');
      assert.equal(renewed.split(';')[0], pair, 'the same signed session id: the learner keeps their session');
      const days = expiresIn(renewed);
      assert.ok(days > 29.99 && days <= 30.01, `the renewed Expires is ${days.toFixed(2)} days out`);
      assert.match(renewed, /;\s*HttpOnly/i);
      assert.equal(await visit(`/lessons/${lesson.slug}`), undefined, 'renewed twice in a day');
    } finally {
      mock.timers.reset();
    }
  });

  it('carries Secure in production behind a TLS proxy', async () => {
    const lesson = course()[0]!;
    const answer = await send(production.baseUrl, `/lessons/${lesson.slug}`, { headers: { accept: 'text/html', 'x-forwarded-proto': 'https' } });
    const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('cookielab.sid='));
    assert.ok(cookie, 'a site cookie');
    assert.match(cookie, /;\s*Secure/i);
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Lax/i);
  });
});
