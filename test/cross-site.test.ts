// The second site's routes (server/routes/cross-site.ts) over real HTTP: each request from the
// other site is a recorded sandbox exchange; the cell it fills comes from the Cookie header that
// arrived (and, when none did, from what the jar last saw the browser hold); CORS headers come only
// from the sandbox's own options, on its fetch route only; bad input is a 4xx with a message. Here
// the test plays the browser (it decides what to send): e2e/cross-site.spec.ts checks Chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, putOptions, readExchanges } from './support/http.ts';
import { visit, write } from './support/sandbox.ts';
import { cellFor, columnOf, explainCell, type GridCell } from '../server/exchange/cross-site.ts';
import type { Exchange } from '../server/sandbox/model.ts';

let lab: Lab;
/** The learner's own origin (localhost) and the second site's (127.0.0.1), on the lab's port. */
let learner: string;
let otherOrigin: string;
before(async () => {
  lab = await startLab();
  const port = new URL(lab.baseUrl).port;
  learner = `http://localhost:${port}`;
  otherOrigin = `http://127.0.0.1:${port}`;
});
after(() => lab.stop());

/** A request from the second site's page, as Chromium sends it: its Origin and Sec-Fetch-Site. */
function fromOtherSite(id: string, kind: string, init: { method?: string; cookie?: string; headers?: Record<string, string>; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { origin: otherOrigin, 'sec-fetch-site': 'cross-site', accept: init.accept ?? '*/*', ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  return fetch(`${learner}/sandbox/${id}/from-other-site/${kind}`, { method: init.method ?? 'GET', headers, redirect: 'manual' });
}

/** What the jar sees the browser send (the sandbox page asks after every exchange). */
async function jarSees(id: string, cookie: string | null): Promise<void> {
  const res = await fetch(`${learner}/sandbox/${id}/jar`, { headers: { accept: 'application/json', ...(cookie ? { cookie } : {}) } });
  assert.equal(res.status, 200);
}

async function latest(id: string): Promise<Exchange> {
  return (await readExchanges(lab.baseUrl, id)).at(-1)!;
}

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));

describe('a request from the second site', () => {
  it('is a recorded visit, with what the browser said of it; the answer to each kind is the kind it needs', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const image = await fromOtherSite(id, 'image', { accept: 'image/avif,image/webp,*/*' });
    assert.equal(image.status, 200);
    assert.equal(image.headers.get('content-type'), 'image/gif');
    assert.equal(image.headers.get('cross-origin-resource-policy'), 'cross-origin');
    assert.equal((await image.arrayBuffer()).byteLength > 0, true);
    const exchange = await latest(id);
    assert.equal(exchange.action, 'visit');
    assert.deepEqual(
      { kind: exchange.crossSite?.kind, fetchSite: exchange.crossSite?.fetchSite, origin: exchange.crossSite?.origin, cookieSent: exchange.crossSite?.cookieSent },
      { kind: 'image', fetchSite: 'cross-site', origin: otherOrigin, cookieSent: false },
    );
    assert.match(exchange.crossSite!.words, /the sandbox has set none yet/);

    const frame = await fromOtherSite(id, 'iframe', { accept: 'text/html' });
    assert.equal(frame.status, 200);
    assert.equal(frame.headers.get('x-frame-options'), null);
    assert.match(frame.headers.get('content-security-policy') ?? '', new RegExp(`frame-ancestors ${otherOrigin.replace(/\./g, '\\.')}$`));
    assert.match(await frame.text(), /Exchange #2: Your browser sent no mycookie cookie/);

    const link = await fromOtherSite(id, 'link', { accept: 'text/html' });
    assert.equal(link.status, 303);
    assert.equal(link.headers.get('location'), `${otherOrigin}/sandbox/${id}/other-site?lab=localhost`);
    const form = await fromOtherSite(id, 'form', { method: 'POST', accept: 'text/html', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 303);
    assert.equal((await latest(id)).method, 'POST');
  });

  it("writes the jar's reading only when it tells the grid something new, and still judges a re-sent cookie of the same value", async () => {
    const id = await createSandbox(lab.baseUrl, { cookie: { sameSite: 'lax' } });
    const browser = new CookieClient(lab.baseUrl);
    const pair = (await write(browser, id, 'user', 'ada')).setCookie[0]!.split(';')[0]!;
    const stored = async () => (await lab.db.get<{ held_cookie: string | null }>('SELECT held_cookie FROM sandbox_state WHERE sandbox_id = ?', [id]))?.held_cookie;
    await jarSees(id, pair);
    const first = await stored();
    assert.ok(first, 'the first reading is stored');
    // A visit that sets no cookie (the session is unchanged), then the same reading: nothing new to store.
    assert.deepEqual((await visit(browser, id)).setCookie, []);
    await jarSees(id, pair);
    assert.equal(await stored(), first, 'an exchange that set no cookie changes nothing the grid needs');
    // A changed session sets the cookie again, with the same value: the reading must move past that
    // exchange, or the grid would say it has not seen what the browser holds since.
    const again = await write(browser, id, 'user', 'bob');
    assert.equal(again.setCookie[0]!.split(';')[0], pair);
    await jarSees(id, pair);
    assert.notEqual(await stored(), first);
    await fromOtherSite(id, 'image');
    assert.match((await latest(id)).crossSite!.words, /held the mycookie cookie exchange #3 set \(SameSite=Lax\) and did not attach it/);
  });

  it('fills the cell of the cookie it carried, or of the one the jar saw the browser hold when it carried none', async () => {
    const id = await createSandbox(lab.baseUrl, { cookie: { sameSite: 'lax' } });
    const browser = new CookieClient(lab.baseUrl);
    const { setCookie } = await write(browser, id, 'user', 'ada');
    const pair = setCookie[0]!.split(';')[0]!;

    // Nothing seen yet of what the browser holds: no cell, and the words say why.
    await fromOtherSite(id, 'image');
    assert.equal((await latest(id)).crossSite?.cell, null);
    assert.match((await latest(id)).crossSite!.words, /has not seen which cookie your browser holds since exchange #1/);

    await jarSees(id, pair);
    await fromOtherSite(id, 'image');
    const withheld = (await latest(id)).crossSite!;
    assert.deepEqual({ kind: withheld.cell?.kind, sameSite: withheld.cell?.sameSite, sent: withheld.cell?.sent, setBy: withheld.cell?.setBy }, { kind: 'image', sameSite: 'lax', sent: false, setBy: 1 });
    assert.match(withheld.words, /held the mycookie cookie exchange #1 set \(SameSite=Lax\) and did not attach it/);

    await fromOtherSite(id, 'link', { cookie: pair });
    const sent = (await latest(id)).crossSite!;
    assert.equal(sent.cookieSent, true);
    assert.deepEqual({ sameSite: sent.cell?.sameSite, sent: sent.cell?.sent }, { sameSite: 'lax', sent: true });

    // The grid, on either site, shows both cells; the second site's has the controls.
    const grid = await (await fetch(`${otherOrigin}/sandbox/${id}/cross-site-grid?lab=localhost`)).text();
    assert.match(grid, /data-cell="image:lax" data-sent="false"/);
    assert.match(grid, /data-cell="link:lax" data-sent="true"/);
    assert.match(grid, new RegExp(`href="${learner}/sandbox/${id}/from-other-site/link"`));
    const own = await (await fetch(`${learner}/sandbox/${id}/cross-site-grid`)).text();
    assert.match(own, /data-cell="image:lax" data-sent="false"/);
    assert.doesNotMatch(own, /from-other-site/, 'the sandbox page shows the grid without the controls: requests come from the other site');
  });

  it('a browser that holds no cookie fills no cell, and is told to write first', () => {
    const setBy = { number: 1, finishedAt: new Date(0).toISOString(), setCookieParsed: [{ name: 'sid', value: 'v1', sameSite: 'Strict', secure: false }] } as unknown as Exchange;
    const found = cellFor('fetch', 'sid', undefined, 1000, [setBy], { name: 'sid', afterExchange: 1, values: [], at: 0 });
    assert.equal(found.cell, null);
    assert.match(found.words, /holds none for the sandbox/);
    const held = cellFor('fetch', 'sid', undefined, 1000, [setBy], { name: 'sid', afterExchange: 1, values: ['v1'], at: 0 });
    assert.deepEqual({ sameSite: held.cell?.sameSite, ageMs: held.cell?.ageMs }, { sameSite: 'strict', ageMs: 1000 });
    assert.deepEqual([null, 'Lax', 'STRICT', 'None', 'bogus'].map(columnOf), ['unset', 'lax', 'strict', 'none', 'unset']);
  });
});

describe('why the browser attached it or not: an explanation beside the observed cell', () => {
  const cell = (kind: GridCell['kind'], sameSite: GridCell['sameSite'], sent: boolean, ageMs = 1000): GridCell => ({ kind, sameSite, sent, secure: sameSite === 'none', setBy: 1, ageMs });
  it('names the rule, and says the observation wins where the browser did otherwise', () => {
    assert.match(explainCell(cell('form', 'unset', true, 30_000)).why, /"Lax\+POST".*about 30 s old/);
    assert.equal(explainCell(cell('form', 'unset', false, 130_000)).expected, false);
    assert.match(explainCell(cell('form', 'lax', false)).why, /explicit Lax gets no allowance/);
    assert.equal(explainCell(cell('link', 'strict', false)).expected, false);
    assert.equal(explainCell(cell('fetch', 'none', false)).expected, false, 'no credentials, no cookies');
    assert.equal(explainCell(cell('image', 'none', false)).expected, null, 'a third-party cookie: up to the browser\'s setting');
    assert.doesNotMatch(explainCell(cell('image', 'lax', false)).why, /did otherwise/);
    assert.match(explainCell(cell('image', 'lax', true)).why, /Your browser did otherwise: what it did is what counts\.$/);
  });
});

describe('the inspector catching up', () => {
  it('answers the latest exchange when it is newer than the one the page shows, else 204; a bad number is a 400', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const ask = (after: string) => fetch(`${learner}/sandbox/${id}/latest-exchange?after=${after}`, { headers: { 'hx-request': 'true', accept: 'text/html' } });
    assert.equal((await ask('0')).status, 204, 'no exchange yet');
    await fromOtherSite(id, 'fetch');
    const newer = await ask('0');
    assert.equal(newer.status, 200);
    assert.equal(newer.headers.get('hx-trigger'), 'sandbox-exchange');
    assert.match(await newer.text(), /Sent from the second site \(fetch, Origin: http:\/\/127\.0\.0\.1:\d+, Sec-Fetch-Site: cross-site\)/);
    assert.equal((await ask('1')).status, 204, 'the page shows it already');
    for (const bad of ['', '-1', 'x', '1e3', '9999999999']) {
      const res = await fetch(`${learner}/sandbox/${id}/latest-exchange?after=${bad}`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, `after=${bad}`);
      assert.equal(((await res.json()) as { error: { field: string } }).error.field, 'after');
    }
  });
});

describe('CORS: the sandbox options on its fetch route, nowhere else', () => {
  it('off by default: no Access-Control-* header on the fetch, and none on the lab\'s own routes', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    assert.deepEqual(corsHeaders(await fromOtherSite(id, 'fetch-credentials')), []);
    for (const path of [`/sandbox/${id}/visit`, `/sandbox/${id}/jar`, `/api/sandboxes/${id}/options`, '/lessons']) {
      const res = await fetch(`${learner}${path}`, { headers: { origin: otherOrigin, accept: 'application/json' } });
      assert.deepEqual(corsHeaders(res), [], `${path} answers no CORS`);
    }
    const preflight = await fetch(`${learner}/sandbox/${id}/visit`, { method: 'OPTIONS', headers: { origin: otherOrigin, 'access-control-request-method': 'GET' } });
    assert.equal(preflight.status, 404, 'the lab answers no preflight on its own routes');
    assert.deepEqual(corsHeaders(preflight), []);
  });

  it("echo with credentials names the request's origin and allows credentials; * never allows them; the answer is recorded", async () => {
    const id = await createSandbox(lab.baseUrl, { corsOrigin: 'echo', corsCredentials: true });
    const res = await fromOtherSite(id, 'fetch-credentials');
    assert.equal(res.headers.get('access-control-allow-origin'), otherOrigin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('vary') ?? '', /Origin/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['cookieSent', 'exchange', 'setCookie', 'why', 'words'], 'no cookie value or session id in a readable answer');
    assert.deepEqual((await latest(id)).crossSite?.cors, { allowOrigin: otherOrigin, allowCredentials: true });
    // Not on the other kinds, even with the options on.
    assert.deepEqual(corsHeaders(await fromOtherSite(id, 'image')), []);

    const odd = await fromOtherSite(id, 'fetch', { headers: { origin: 'null' } });
    assert.equal(odd.headers.get('access-control-allow-origin'), null, 'an Origin that is no origin is never echoed');
    await putOptions(lab.baseUrl, id, { corsOrigin: '*' });
    const any = await fromOtherSite(id, 'fetch');
    assert.equal(any.headers.get('access-control-allow-origin'), '*');
    assert.equal(any.headers.get('access-control-allow-credentials'), 'true');
  });

  it('answers the preflight of a fetch that adds X-Forwarded-Proto from the same options, recording nothing', async () => {
    const id = await createSandbox(lab.baseUrl, { corsOrigin: 'echo', corsCredentials: true });
    const ask = (kind: string) =>
      fetch(`${learner}/sandbox/${id}/from-other-site/${kind}`, { method: 'OPTIONS', headers: { origin: otherOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-forwarded-proto' } });
    const yes = await ask('fetch-credentials');
    assert.equal(yes.status, 204);
    assert.equal(yes.headers.get('access-control-allow-headers'), 'X-Forwarded-Proto');
    assert.equal(yes.headers.get('access-control-allow-origin'), otherOrigin);
    assert.equal((await ask('image')).status, 404);
    assert.deepEqual(await readExchanges(lab.baseUrl, id), []);
    await putOptions(lab.baseUrl, id, { corsOrigin: 'off' });
    assert.deepEqual(corsHeaders(await ask('fetch')), [], 'off: a preflight the browser will refuse');
  });
});

describe('bad input: a 4xx that says what is wrong, never a 500', () => {
  it('an unknown kind, the wrong method, and a second-site page opened without its link', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const unknown = await fromOtherSite(id, 'websocket', { accept: 'application/json' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { error: { field: 'kind', message: 'the kind of cross-site request must be one of: link, form, image, iframe, fetch, fetch-credentials' } });
    assert.equal((await fromOtherSite(id, 'form', { accept: 'application/json' })).status, 405);
    assert.equal((await fromOtherSite(id, 'image', { method: 'POST', accept: 'application/json' })).status, 405);
    assert.equal((await fromOtherSite('A'.repeat(22), 'image', { accept: 'application/json' })).status, 404);
    assert.deepEqual(await readExchanges(lab.baseUrl, id), [], 'a refused request reaches no session');

    for (const query of ['', '?lab=', '?lab=evil.example', '?lab=127.0.0.1', `?lab=${'a'.repeat(300)}`, '?lab=localhost&lab=x']) {
      const res = await fetch(`${otherOrigin}/sandbox/${id}/other-site${query}`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 400, `other-site${query}`);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /open it with the link on your sandbox page/);
    }
    const page = await fetch(`${otherOrigin}/sandbox/${id}/other-site?lab=localhost`);
    assert.equal(page.status, 200);
    const policy = page.headers.get('content-security-policy') ?? '';
    assert.match(policy, new RegExp(`form-action 'self' ${learner}`));
    assert.match(policy, new RegExp(`connect-src 'self' ${learner}`));
    assert.match(policy, /frame-ancestors 'none'/);
  });

  it('CORS options are validated like the others: a clear 400 naming the field', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    for (const [patch, field, message] of [
      [{ corsOrigin: 'yes' }, 'corsOrigin', /corsOrigin must be one of: "off", "\*", "echo"/],
      [{ corsOrigin: null }, 'corsOrigin', /corsOrigin must be one of/],
      [{ corsCredentials: 'true' }, 'corsCredentials', /corsCredentials must be true or false/],
    ] as const) {
      const res = await putOptions(lab.baseUrl, id, patch);
      assert.equal(res.status, 400, JSON.stringify(patch));
      assert.deepEqual((res.json as unknown as { error: { field: string } }).error.field, field);
      assert.match((res.json as unknown as { error: { message: string } }).error.message, message);
    }
    // The options form: an unknown choice re-renders the form with the message, never a 500.
    const form = await fetch(`${lab.baseUrl}/sandbox/${id}/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
      body: new URLSearchParams({ name: 'mycookie', secret: 'cookiesaregood', secure: 'false', unset: 'keep', store: 'memory', corsOrigin: 'sometimes' }),
    });
    assert.equal(form.status, 400);
    assert.match(await form.text(), /corsOrigin must be one of/);
  });
});
