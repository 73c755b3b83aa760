// Each express-session option's effect on the real response headers of sandbox requests, checked
// twice: on the raw Set-Cookie text the HTTP response carried, and on the lab's explanation (`why`,
// `whyStore`) of it. Grouped by option, like express-session's own tests.
// Long because it covers every option in one describe each, as express-session's own tests do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import signature from 'cookie-signature';
import { articleOptions, validateOptions, type SandboxOptions } from '../server/sandbox/options.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, getExchanges, requestJson, submitOptionsForm, updateOptions, type ApiError } from './support/http.ts';
import { act, ops, slow, visit, write, type SandboxReply } from './support/sandbox.ts';
import { withHandClock } from './support/clock.ts';

/** A signed express-session cookie value as it travels: s: + 32-char id + . + signature, URL-encoded. */
const SIGNED_VALUE = /^s%3A[A-Za-z0-9_-]{32}\.[A-Za-z0-9%]+$/;

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

/** A new sandbox with these options, and a browser that has never seen it. */
async function fresh(options: unknown = {}): Promise<{ id: string; client: CookieClient; path: string }> {
  const id = await createSandbox(lab.baseUrl, options);
  return { id, client: new CookieClient(lab.baseUrl), path: `/sandbox/${id}` };
}

/** The one Set-Cookie header of a reply (asserting there is exactly one, and that the exchange saw the same). */
function onlyCookie(reply: SandboxReply): string {
  assert.equal(reply.setCookie.length, 1, `expected one Set-Cookie, got ${JSON.stringify(reply.setCookie)}; why: ${reply.exchange.why}`);
  assert.deepEqual(reply.exchange.setCookie, reply.setCookie, 'the exchange records the headers the response really carried');
  return reply.setCookie[0]!;
}

function assertNoCookie(reply: SandboxReply): void {
  assert.deepEqual(reply.setCookie, [], `expected no Set-Cookie; why: ${reply.exchange.why}`);
  assert.deepEqual(reply.exchange.setCookie, []);
  assert.deepEqual(reply.exchange.setCookieParsed, []);
}

function attributes(header: string): string[] {
  return header.split('; ').slice(1);
}

function expiresOf(header: string): number {
  const match = /; Expires=([^;]+)/.exec(header);
  assert.ok(match, `no Expires in ${header}`);
  return Date.parse(match[1]!);
}

/** The session id inside a Set-Cookie header's signed value. */
function sessionIdOf(header: string): string {
  const value = decodeURIComponent(header.split(';')[0]!.split('=').slice(1).join('='));
  return value.slice(2, value.lastIndexOf('.'));
}

describe('saveUninitialized option', () => {
  describe('when false (the article\'s)', () => {
    it('a first visit gets no cookie and nothing is stored', async () => {
      const { id, client } = await fresh();
      const reply = await visit(client, id);
      assertNoCookie(reply);
      assert.deepEqual(ops(reply.exchange), [], 'no store call at all: no cookie came in, and nothing was saved');
      assert.equal(reply.exchange.sessionAfter, null);
      assert.match(reply.exchange.why, /^not sent: /);
      assert.match(reply.exchange.why, /saveUninitialized is off/);
      assert.match(reply.exchange.why, /carried no "mycookie" cookie/);
      assert.match(reply.exchange.whyStore, /nothing stored/);
      assert.equal(client.jar.size, 0);
    });

    it('every visit before a write is a new, cookieless session', async () => {
      const { id, client } = await fresh();
      const first = await visit(client, id);
      const second = await visit(client, id);
      assertNoCookie(second);
      assert.notEqual(first.exchange.sessionId, second.exchange.sessionId);
      assert.equal(second.exchange.requestCookie, null);
    });
  });

  describe('when true', () => {
    it('a first visit gets a cookie and the empty session is stored with store.set', async () => {
      const { id, client, path } = await fresh({ saveUninitialized: true });
      const reply = await visit(client, id);
      const header = onlyCookie(reply);
      assert.match(header, new RegExp(`^mycookie=s%3A[^;]+; Path=${path}; Expires=[^;]+; HttpOnly$`));
      assert.deepEqual(ops(reply.exchange), ['set']);
      assert.equal(reply.exchange.storeCalls[0]!.sid, reply.exchange.sessionId);
      assert.equal(sessionIdOf(header), reply.exchange.sessionId);
      assert.ok(reply.exchange.sessionAfter, 'the empty session is in the store');
      assert.deepEqual(Object.keys(reply.exchange.sessionAfter), ['cookie']);
      assert.match(reply.exchange.why, /^sent: /);
      assert.match(reply.exchange.why, /saveUninitialized is on/);
      assert.match(reply.exchange.whyStore, /saveUninitialized is on/);
    });
  });
});

describe('writing to the session', () => {
  it('sends a signed cookie with the sandbox path, an Expires maxAge ahead and HttpOnly, and no Max-Age', async () => {
    const { id, client, path } = await fresh();
    const sentAt = Date.now();
    const reply = await write(client, id, 'colour', 'blue');
    const answeredAt = Date.now();
    const header = onlyCookie(reply);
    const [pair, ...attrs] = header.split('; ');
    assert.equal(pair!.split('=')[0], 'mycookie');
    assert.match(pair!.slice('mycookie='.length), SIGNED_VALUE);
    assert.deepEqual(attrs.map((a) => a.split('=')[0]), ['Path', 'Expires', 'HttpOnly']);
    assert.ok(attrs.includes(`Path=${path}`));
    assert.doesNotMatch(header, /Max-Age/i, 'express-session sends Expires only');
    assert.doesNotMatch(header, /; Secure|; SameSite|; Domain/);
    const expires = expiresOf(header);
    // An hour after the request was handled (somewhere between sending it and its answer), to the second.
    const hourAhead = (at: number) => Math.floor((at + 3_600_000) / 1000) * 1000;
    assert.ok(expires >= hourAhead(sentAt) && expires <= hourAhead(answeredAt), `Expires ${new Date(expires).toISOString()} is not an hour ahead`);
    assert.match(reply.exchange.why, /^sent: the session is new and was modified/);
    assert.deepEqual(ops(reply.exchange), ['set']);
    assert.match(reply.exchange.whyStore, /store\.set\(\): a new session was written to/);
  });

  it('the value written is read back in sessionAfter, and in sessionBefore of the next request', async () => {
    const { id, client } = await fresh();
    const written = await write(client, id, 'colour', 'blue');
    assert.equal(written.exchange.sessionBefore, null);
    assert.equal((written.exchange.sessionAfter as Record<string, unknown> | null)?.colour, 'blue');
    assert.deepEqual(written.exchange.input, { key: 'colour', value: 'blue' });
    const next = await visit(client, id);
    assert.equal((next.exchange.sessionBefore as Record<string, unknown> | null)?.colour, 'blue');
    assert.equal((next.exchange.sessionAfter as Record<string, unknown> | null)?.colour, 'blue');
    assert.equal(next.exchange.sessionId, written.exchange.sessionId);
    assert.equal(next.exchange.requestCookieAnatomy?.verdict, 'valid');
    assert.equal(next.exchange.requestCookieAnatomy?.sessionId, written.exchange.sessionId);
  });

  it('keeps numbers and booleans as they were sent in JSON', async () => {
    const { id, client } = await fresh();
    await write(client, id, 'count', 3);
    const reply = await write(client, id, 'admin', false);
    const after = reply.exchange.sessionAfter as Record<string, unknown> | null;
    assert.equal(after?.count, 3);
    assert.equal(after?.admin, false);
  });

  it('accepts a urlencoded form as well as JSON', async () => {
    const { id, client } = await fresh();
    const res = await client.request(`/sandbox/${id}/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'key=user_name&value=Ada+Lovelace',
    });
    assert.equal(res.status, 200);
    const exchange = (await res.json()) as SandboxReply['exchange'];
    assert.equal((exchange.sessionAfter as Record<string, unknown> | null)?.user_name, 'Ada Lovelace');
    assert.equal(res.headers.getSetCookie().length, 1);
  });

  it('a page form post (HTML accepted, not JSON) is answered 303 back to the sandbox, with the same cookie', async () => {
    const { id, client, path } = await fresh();
    const res = await client.request(`/sandbox/${id}/write`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'key=k&value=v',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), path);
    assert.match(res.headers.getSetCookie()[0] ?? '', new RegExp(`^mycookie=s%3A[^;]+; Path=${path}; `));
  });

  it('every sandbox answer is marked Cache-Control: no-store', async () => {
    const { id, client } = await fresh();
    const res = await client.request(`/sandbox/${id}/visit`);
    await res.arrayBuffer();
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });
});

describe('cookie.maxAge option', () => {
  describe('when null (a browser-session cookie)', () => {
    it('the cookie has no Expires, and the lab says the browser drops it when it closes', async () => {
      const { id, client, path } = await fresh({ cookie: { maxAge: null } });
      const reply = await write(client, id, 'k', 'v');
      const header = onlyCookie(reply);
      assert.match(header, new RegExp(`^mycookie=s%3A[^;]+; Path=${path}; HttpOnly$`));
      assert.doesNotMatch(header, /Expires|Max-Age/i);
      assert.equal(reply.exchange.setCookieParsed[0]!.expires, null);
      assert.ok(reply.exchange.browserNotes.some((note) => /browser-session cookie/.test(note)), JSON.stringify(reply.exchange.browserNotes));
    });

    it('a returning session that changes gets no new cookie (no Expires to move forward), but is saved', async () => {
      const { id, client } = await fresh({ cookie: { maxAge: null } });
      await write(client, id, 'k', 'first');
      const reply = await write(client, id, 'k', 'second');
      assertNoCookie(reply);
      assert.equal(reply.exchange.decision.modified, true);
      assert.equal(reply.exchange.decision.hasExpiry, false);
      assert.match(reply.exchange.why, /^not sent: /);
      assert.match(reply.exchange.why, /no maxAge/);
      assert.match(reply.exchange.why, /rolling is off/);
      assert.deepEqual(ops(reply.exchange), ['get', 'set']);
      assert.equal((reply.exchange.sessionAfter as Record<string, unknown> | null)?.k, 'second');
    });
  });

  describe('when 0', () => {
    it('the cookie\'s Expires is already past (the browser deletes it) and the stored session is expired at once', async () => {
      const { id, client } = await fresh({ cookie: { maxAge: 0 } });
      const reply = await write(client, id, 'k', 'v');
      const header = onlyCookie(reply);
      assert.ok(expiresOf(header) <= Date.now());
      assert.ok(reply.exchange.browserNotes.some((note) => /Expires is already past/.test(note)), JSON.stringify(reply.exchange.browserNotes));
      // Even a browser that kept it would find nothing: the store treats the session as expired.
      const keeper = new CookieClient(lab.baseUrl);
      keeper.jar.set('mycookie', header.split(';')[0]!.slice('mycookie='.length));
      const next = await visit(keeper, id);
      assert.equal(next.exchange.storeCalls[0]?.found, false);
      assert.match(next.exchange.why, /the store has no session .*expired/);
    });
  });

  describe('when set', () => {
    it('a returning session that changes gets the cookie again with a later Expires', async () => {
      const { id, client } = await fresh({ cookie: { maxAge: 60_000 } });
      // Time passing is what is tested (Expires has one-second precision): the clock is moved by hand.
      const [first, second] = await withHandClock(async (clock) => {
        const first = await write(client, id, 'k', 'first');
        clock.tick(1_100);
        return [first, await write(client, id, 'k', 'second')] as const;
      });
      const header = onlyCookie(second);
      assert.equal(sessionIdOf(header), first.exchange.sessionId, 'the same session, re-sent');
      assert.ok(expiresOf(header) > expiresOf(onlyCookie(first)), 'Expires moved forward');
      assert.match(second.exchange.why, /^re-sent because the session changed and the cookie has maxAge/);
    });
  });
});

for (const store of ['memory', 'database'] as const) {
  describe(`resave option (${store} store)`, () => {
    it('when false, a returning visit that changes nothing gets no cookie and only a store.touch', async () => {
      const { id, client } = await fresh({ store, resave: false });
      await write(client, id, 'k', 'v');
      const reply = await visit(client, id);
      assertNoCookie(reply);
      assert.deepEqual(ops(reply.exchange), ['get', 'touch']);
      assert.equal(reply.exchange.storeCalls[0]!.found, true);
      assert.match(reply.exchange.why, /^not sent: the browser already holds this session's cookie and the session is unchanged/);
      assert.match(reply.exchange.whyStore, /store\.touch\(\): the session is unchanged and resave is off/);
      assert.equal((reply.exchange.sessionAfter as Record<string, unknown> | null)?.k, 'v', 'touch keeps the data');
    });

    it('when true, a returning visit that changes nothing still gets no cookie, but the store is written (store.set)', async () => {
      const { id, client } = await fresh({ store, resave: true });
      await write(client, id, 'k', 'v');
      const reply = await visit(client, id);
      assertNoCookie(reply);
      assert.deepEqual(ops(reply.exchange), ['get', 'set']);
      assert.match(reply.exchange.whyStore, /resave is on, so the unchanged session was written back anyway/);
      assert.match(reply.exchange.why, /session is unchanged/);
    });

    it('touch refreshes the stored expiry without changing the data', async () => {
      const { id, client } = await fresh({ store, resave: false });
      // Time passing is what is tested: the clock is moved by hand.
      const [written, touched] = await withHandClock(async (clock) => {
        const written = await write(client, id, 'k', 'v');
        clock.tick(20);
        return [written, await visit(client, id)] as const;
      });
      const before = Date.parse(String(written.exchange.sessionAfter?.cookie.expires));
      const after = Date.parse(String(touched.exchange.sessionAfter?.cookie.expires));
      assert.ok(after > before, `stored expiry ${after} should be later than ${before}`);
    });
  });
}

describe('rolling option', () => {
  it('when true, an unchanged returning visit gets the cookie again with a fresh expiry', async () => {
    const { id, client } = await fresh({ rolling: true });
    // Time passing is what is tested: the clock is moved by hand.
    const [first, reply] = await withHandClock(async (clock) => {
      const first = await write(client, id, 'k', 'v');
      clock.tick(20);
      return [first, await visit(client, id)] as const;
    });
    const header = onlyCookie(reply);
    assert.equal(sessionIdOf(header), first.exchange.sessionId);
    assert.match(reply.exchange.why, /^re-sent because rolling is on/);
    const before = Date.parse(String(first.exchange.sessionAfter?.cookie.expires));
    const after = Date.parse(String(reply.exchange.sessionAfter?.cookie.expires));
    assert.ok(after > before, 'the stored expiry moved forward too');
  });

  it('when true, but saveUninitialized is false, a first visit still gets no cookie', async () => {
    const { id, client } = await fresh({ rolling: true, saveUninitialized: false });
    const reply = await visit(client, id);
    assertNoCookie(reply);
    assert.match(reply.exchange.why, /saveUninitialized is off/);
  });

  it('when false (the article\'s), an unchanged returning visit gets no cookie', async () => {
    const { id, client } = await fresh({ rolling: false });
    await write(client, id, 'k', 'v');
    const reply = await visit(client, id);
    assertNoCookie(reply);
    assert.match(reply.exchange.why, /only with rolling on/);
  });

  it('when true and maxAge is null, the cookie is re-sent without Expires', async () => {
    const { id, client } = await fresh({ rolling: true, cookie: { maxAge: null } });
    await write(client, id, 'k', 'v');
    const header = onlyCookie(await visit(client, id));
    assert.doesNotMatch(header, /Expires/);
  });
});

describe('cookie.secure option', () => {
  describe('when true', () => {
    it('over plain HTTP: no Set-Cookie at all, although the session was written to the store', async () => {
      const { id, client } = await fresh({ cookie: { secure: true } });
      const reply = await write(client, id, 'k', 'v');
      assertNoCookie(reply);
      assert.deepEqual(ops(reply.exchange), ['set'], 'the session was saved');
      assert.equal((reply.exchange.sessionAfter as Record<string, unknown> | null)?.k, 'v');
      assert.match(reply.exchange.why, /^no Set-Cookie: cookie\.secure is on and this request is not HTTPS/);
      assert.match(reply.exchange.why, /Otherwise it would have been sent/);
      assert.equal(reply.exchange.decision.cookieSecure, true);
      assert.equal(reply.exchange.decision.requestSecure, false);
      // So the browser never holds a cookie: the next request starts over.
      const next = await visit(client, id);
      assert.equal(next.exchange.requestCookie, null);
      assert.notEqual(next.exchange.sessionId, reply.exchange.sessionId);
    });

    it('behind a trusted proxy (proxy true, X-Forwarded-Proto: https): the cookie is sent, marked Secure', async () => {
      const { id, client, path } = await fresh({ cookie: { secure: true }, proxy: true });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
      const header = onlyCookie(reply);
      assert.match(header, new RegExp(`^mycookie=s%3A[^;]+; Path=${path}; Expires=[^;]+; HttpOnly; Secure$`));
      assert.equal(reply.exchange.decision.requestSecure, true);
      assert.match(reply.exchange.why, /^sent: /);
      assert.doesNotMatch(reply.exchange.why, /not HTTPS/);
    });

    it('with proxy true, X-Forwarded-Proto lists the client-facing scheme first: "https, http" counts as HTTPS', async () => {
      const { id, client } = await fresh({ cookie: { secure: true }, proxy: true });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https, http' } });
      assert.match(onlyCookie(reply), /; Secure$/);
    });

    it('with proxy true but X-Forwarded-Proto: http: no cookie', async () => {
      const { id, client } = await fresh({ cookie: { secure: true }, proxy: true });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'http' } });
      assertNoCookie(reply);
      assert.match(reply.exchange.why, /cookie\.secure is on and this request is not HTTPS/);
    });

    it('with proxy false, X-Forwarded-Proto: https is not believed: no cookie, and the lab says why', async () => {
      const { id, client } = await fresh({ cookie: { secure: true }, proxy: false });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
      assertNoCookie(reply);
      assert.match(reply.exchange.why, /cookie\.secure is on and this request is not HTTPS/);
      assert.match(reply.exchange.why, /X-Forwarded-Proto says https, but proxy is false/);
      assert.equal(reply.exchange.decision.forwardedProto, 'https');
    });

    it('with proxy unset and Express not trusting proxies, X-Forwarded-Proto: https is not believed either', async () => {
      const { id, client } = await fresh({ cookie: { secure: true }, proxy: null });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
      assertNoCookie(reply);
      assert.match(reply.exchange.why, /proxy is unset and Express does not trust proxies/);
    });
  });

  describe('when "auto"', () => {
    it('over plain HTTP: the cookie is sent without Secure', async () => {
      const { id, client } = await fresh({ cookie: { secure: 'auto' } });
      const reply = await write(client, id, 'k', 'v');
      const header = onlyCookie(reply);
      assert.doesNotMatch(header, /Secure/);
      assert.match(reply.exchange.why, /cookie\.secure is "auto" and this request is plain HTTP, so the cookie goes without Secure/);
    });

    it('behind a trusted proxy saying https: the cookie is marked Secure', async () => {
      const { id, client } = await fresh({ cookie: { secure: 'auto' }, proxy: true });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
      assert.match(onlyCookie(reply), /; Secure$/);
      assert.match(reply.exchange.why, /cookie\.secure is "auto" and this request is HTTPS, so the cookie is marked Secure/);
    });
  });

  describe('when "auto", for a returning session', () => {
    /** A session begun over plain HTTP, then visited again through a trusted proxy saying https. */
    async function beganOverHttpReturnsOverHttps() {
      const { id, client } = await fresh({ cookie: { secure: 'auto' }, proxy: true, rolling: true });
      const first = await write(client, id, 'k', 'v');
      const again = await visit(client, id, { headers: { 'x-forwarded-proto': 'https' } });
      return { first, again };
    }

    it('"auto" is resolved when the session is created: a session begun over HTTP keeps a cookie without Secure over HTTPS', async () => {
      const { first, again } = await beganOverHttpReturnsOverHttps();
      assert.doesNotMatch(onlyCookie(first), /Secure/);
      const header = onlyCookie(again);
      assert.doesNotMatch(header, /Secure/, 'express-session keeps the secure value the session was created with');
      assert.equal(again.exchange.decision.requestSecure, true);
      assert.equal(again.exchange.decision.cookieSecure, false);
    });

    it(
      'the explanation does not claim the HTTPS request was plain HTTP',
      async () => {
        const { again } = await beganOverHttpReturnsOverHttps();
        assert.match(again.exchange.why, /^re-sent because rolling is on/);
        assert.doesNotMatch(again.exchange.why, /this request is plain HTTP/);
        assert.match(again.exchange.why, /created over plain HTTP/);
      },
    );
  });

  describe('browser notes behind a trusted proxy', () => {
    it(
      'X-Forwarded-Proto: https over plain HTTP (proxy true): express-session believes it and sends Secure; the browser note goes by the real connection',
      async () => {
        const { id, client } = await fresh({ cookie: { secure: true }, proxy: true });
        const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
        assert.match(onlyCookie(reply), /; Secure$/);
        assert.equal(reply.exchange.decision.requestSecure, true);
        assert.equal(reply.exchange.connectionSecure, false, 'the lab trusts no proxy: the connection was plain HTTP');
        // 127.0.0.1 counts as a secure context, so Chromium keeps it here (test/browser-notes.test.ts has other hosts).
        assert.ok(reply.exchange.browserNotes.some((note) => /^Secure over plain HTTP: Chromium still keeps it/.test(note)), JSON.stringify(reply.exchange.browserNotes));
      },
    );
  });

  describe('when false (the article\'s)', () => {
    it('the cookie is sent without Secure even when the request came over HTTPS', async () => {
      const { id, client } = await fresh({ cookie: { secure: false }, proxy: true });
      const reply = await write(client, id, 'k', 'v', { headers: { 'x-forwarded-proto': 'https' } });
      assert.doesNotMatch(onlyCookie(reply), /Secure/);
    });
  });
});

describe('cookie.sameSite option', () => {
  for (const [value, attribute] of [
    [true, 'SameSite=Strict'],
    ['lax', 'SameSite=Lax'],
    ['strict', 'SameSite=Strict'],
    ['none', 'SameSite=None'],
    ['auto', 'SameSite=Lax'],
  ] as const) {
    it(`${JSON.stringify(value)} appears as ${attribute}${value === 'auto' ? ' over plain HTTP' : ''}`, async () => {
      const { id, client } = await fresh({ saveUninitialized: true, cookie: { sameSite: value } });
      const header = onlyCookie(await visit(client, id));
      assert.ok(attributes(header).includes(attribute), header);
      assert.equal(header.match(/SameSite/g)?.length, 1);
    });
  }

  it('false (the article\'s) sends no SameSite attribute', async () => {
    const { id, client } = await fresh({ saveUninitialized: true });
    assert.doesNotMatch(onlyCookie(await visit(client, id)), /SameSite/i);
  });

  it('"auto" behind a trusted proxy saying https becomes SameSite=None', async () => {
    const { id, client } = await fresh({ saveUninitialized: true, proxy: true, cookie: { sameSite: 'auto', secure: 'auto' } });
    const header = onlyCookie(await visit(client, id, { headers: { 'x-forwarded-proto': 'https' } }));
    assert.ok(attributes(header).includes('SameSite=None'), header);
    assert.ok(attributes(header).includes('Secure'), header);
  });

  it('"none" without Secure: sent, but the lab warns that browsers reject it', async () => {
    const { id, client } = await fresh({ saveUninitialized: true, cookie: { sameSite: 'none' } });
    const reply = await visit(client, id);
    onlyCookie(reply);
    assert.ok(
      reply.exchange.browserNotes.some((note) => /SameSite=None is only accepted together with Secure/.test(note)),
      JSON.stringify(reply.exchange.browserNotes),
    );
  });
});

describe('cookie.domain option', () => {
  it('appears as Domain=, and the lab warns when it does not cover the host', async () => {
    const { id, client } = await fresh({ saveUninitialized: true, cookie: { domain: 'Example.com' } });
    const reply = await visit(client, id);
    const header = onlyCookie(reply);
    assert.ok(attributes(header).includes('Domain=example.com'), header);
    assert.equal(reply.exchange.setCookieParsed[0]!.domain, 'example.com');
    assert.ok(
      reply.exchange.browserNotes.some((note) => /127\.0\.0\.1 is an IP address, and a Domain attribute on an IP host must be that very address \(Domain=example\.com/.test(note)),
      JSON.stringify(reply.exchange.browserNotes),
    );
  });

  it('null (the article\'s) sends no Domain attribute', async () => {
    const { id, client } = await fresh({ saveUninitialized: true });
    assert.doesNotMatch(onlyCookie(await visit(client, id)), /Domain/i);
  });
});

describe('name option', () => {
  it('a custom name names the cookie, and the session is found under it on the next visit', async () => {
    const { id, client } = await fresh({ name: 'lab_sid' });
    const written = await write(client, id, 'k', 'v');
    assert.match(onlyCookie(written), /^lab_sid=s%3A/);
    assert.ok(client.jar.has('lab_sid'));
    const next = await visit(client, id);
    assert.equal(next.exchange.sessionId, written.exchange.sessionId);
    assert.equal(next.exchange.storeCalls[0]?.found, true);
  });

  it('a validly signed cookie under another name is not this session\'s cookie', async () => {
    const { id, client } = await fresh({ name: 'lab_sid' });
    const written = await write(client, id, 'k', 'v');
    const value = client.jar.get('lab_sid')!;
    const stranger = new CookieClient(lab.baseUrl);
    stranger.jar.set('mycookie', value);
    const reply = await visit(stranger, id);
    assert.equal(reply.exchange.requestCookieAnatomy, null);
    assert.notEqual(reply.exchange.sessionId, written.exchange.sessionId);
    assert.match(reply.exchange.why, /carried no "lab_sid" cookie/);
  });

  it('the default name, when none is given, is the article\'s "mycookie" (not express-session\'s connect.sid)', async () => {
    const { id, client } = await fresh();
    assert.match(onlyCookie(await write(client, id, 'k', 'v')), /^mycookie=/);
  });
});

describe('cookie.httpOnly option', () => {
  it('when false, the cookie has no HttpOnly', async () => {
    const { id, client } = await fresh({ saveUninitialized: true, cookie: { httpOnly: false } });
    const header = onlyCookie(await visit(client, id));
    assert.doesNotMatch(header, /HttpOnly/i);
  });

  it('when true (the article\'s), the cookie has HttpOnly', async () => {
    const { id, client } = await fresh({ saveUninitialized: true });
    assert.ok(attributes(onlyCookie(await visit(client, id))).includes('HttpOnly'));
  });
});

describe('when the signature does not verify', () => {
  /** Replaces the last character of the signature with another one. */
  function tamperSignature(value: string): string {
    const last = value.at(-1)!;
    return value.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  }

  it('a tampered cookie value starts a new session; the old session\'s data is not visible', async () => {
    const { id, client } = await fresh();
    const original = await write(client, id, 'role', 'user');
    client.jar.set('mycookie', tamperSignature(client.jar.get('mycookie')!));
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.equal(reply.exchange.requestCookieAnatomy?.verifiedBy, null);
    assert.equal(reply.exchange.requestCookieAnatomy?.sessionId, original.exchange.sessionId, 'the id is readable: signed, not encrypted');
    assert.notEqual(reply.exchange.sessionId, original.exchange.sessionId);
    assert.equal(reply.exchange.sessionBefore, null);
    assert.ok(!ops(reply.exchange).includes('get'), 'express-session does not even look the id up');
    assert.match(reply.exchange.why, /signature does not verify with any listed secret/);
    assertNoCookie(reply);
  });

  it('writing with a tampered cookie issues a new cookie for a new, separate session', async () => {
    const { id, client } = await fresh();
    const original = await write(client, id, 'role', 'user');
    client.jar.set('mycookie', tamperSignature(client.jar.get('mycookie')!));
    const reply = await write(client, id, 'other', 'x');
    const header = onlyCookie(reply);
    assert.notEqual(sessionIdOf(header), original.exchange.sessionId);
    assert.deepEqual(Object.keys(reply.exchange.sessionAfter ?? {}).sort(), ['cookie', 'other']);
    assert.match(reply.exchange.why, /^sent: the session is new and was modified \(.*signature/);
  });

  it('changing the session id but keeping its signature does not verify either', async () => {
    const { id, client } = await fresh();
    await write(client, id, 'role', 'user');
    const other = await write(new CookieClient(lab.baseUrl), id, 'role', 'admin');
    // Graft the other session's id onto this cookie's signature.
    const mine = decodeURIComponent(client.jar.get('mycookie')!);
    const forged = `s:${other.exchange.sessionId}${mine.slice(mine.lastIndexOf('.'))}`;
    client.jar.set('mycookie', encodeURIComponent(forged));
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.notEqual(reply.exchange.sessionId, other.exchange.sessionId);
    assert.equal(reply.exchange.sessionBefore, null, 'the admin session is not reached');
  });

  it('an unsigned cookie value (no "s:" prefix) is ignored and the lab says it is not signed', async () => {
    const { id, client } = await fresh();
    const original = await write(client, id, 'role', 'user');
    client.jar.set('mycookie', original.exchange.sessionId!);
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'unsigned');
    assert.equal(reply.exchange.requestCookieAnatomy?.signed, false);
    assert.notEqual(reply.exchange.sessionId, original.exchange.sessionId);
    assert.match(reply.exchange.why, /not signed \(no "s:" prefix\)/);
  });

  it('when the Cookie header carries the name twice, only the first counts', async () => {
    const { id, client } = await fresh();
    const written = await write(client, id, 'k', 'v');
    const good = client.jar.get('mycookie')!;
    const reply = await visit(new CookieClient(lab.baseUrl), id, { headers: { cookie: `mycookie=${tamperSignature(good)}; mycookie=${good}` } });
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.notEqual(reply.exchange.sessionId, written.exchange.sessionId);
    const reversed = await visit(new CookieClient(lab.baseUrl), id, { headers: { cookie: `mycookie=${good}; mycookie=${tamperSignature(good)}` } });
    assert.equal(reversed.exchange.sessionId, written.exchange.sessionId);
  });

  it('a correctly signed id the store does not have starts a new session, and the lab says the store had none', async () => {
    const { id, client } = await fresh();
    const madeUp = 'x'.repeat(32);
    client.jar.set('mycookie', encodeURIComponent(`s:${signature.sign(madeUp, 'cookiesaregood')}`));
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'valid');
    assert.deepEqual(reply.exchange.storeCalls.map((c) => [c.op, c.sid, c.found]), [['get', madeUp, false]]);
    assert.notEqual(reply.exchange.sessionId, madeUp);
    assert.match(reply.exchange.why, /validly signed but the store has no session/);
  });
});

describe('secret rotation (the first secret signs, every listed one verifies)', () => {
  // These change options through the sandbox page's form, as a learner does; the last one uses PUT.
  async function rotate(id: string, current: SandboxOptions, secret: string[]): Promise<SandboxOptions> {
    const next = validateOptions({ secret }, current);
    await submitOptionsForm(lab.baseUrl, id, next);
    return next;
  }

  it('a cookie signed with the old secret still verifies after secret [new, old], and its session is still there', async () => {
    let options = validateOptions({ secret: 'old-secret' });
    const { id, client } = await fresh(options);
    const written = await write(client, id, 'user', 'ada');
    options = await rotate(id, options, ['new-secret', 'old-secret']);
    const reply = await visit(client, id);
    assert.deepEqual(reply.exchange.options.secret, ['new-secret', 'old-secret']);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'valid');
    assert.equal(reply.exchange.requestCookieAnatomy?.verifiedBy, 1);
    assert.equal(reply.exchange.sessionId, written.exchange.sessionId);
    assert.equal((reply.exchange.sessionBefore as Record<string, unknown> | null)?.user, 'ada');
    // A change re-sends the cookie, now signed with the new first secret.
    const rewritten = await write(client, id, 'user', 'grace');
    assert.equal(rewritten.exchange.setCookieParsed[0]?.anatomy.verifiedBy, 0);
    assert.equal(sessionIdOf(onlyCookie(rewritten)), written.exchange.sessionId);
  });

  it('once the old secret is removed, a cookie signed with it no longer verifies: a new session', async () => {
    let options = validateOptions({ secret: 'old-secret' });
    const { id, client } = await fresh(options);
    const written = await write(client, id, 'user', 'ada');
    options = await rotate(id, options, ['new-secret', 'old-secret']);
    options = await rotate(id, options, ['new-secret']);
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.equal(reply.exchange.requestCookieAnatomy?.verifiedBy, null);
    assert.notEqual(reply.exchange.sessionId, written.exchange.sessionId);
    assert.equal(reply.exchange.sessionBefore, null);
    assert.match(reply.exchange.why, /signature does not verify with any listed secret \(tampered with, or signed by a secret no longer listed\)/);
  });

  it('the same rotation through PUT /api/sandboxes/:id/options', async () => {
    const { id, client } = await fresh({ secret: 'old-secret' });
    const written = await write(client, id, 'user', 'ada');
    await updateOptions(lab.baseUrl, id, { secret: ['new-secret', 'old-secret'] });
    const still = await visit(client, id);
    assert.equal(still.exchange.requestCookieAnatomy?.verifiedBy, 1);
    assert.equal((still.exchange.sessionBefore as Record<string, unknown> | null)?.user, 'ada');
    await updateOptions(lab.baseUrl, id, { secret: ['new-secret'] });
    const gone = await visit(client, id);
    assert.equal(gone.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.notEqual(gone.exchange.sessionId, written.exchange.sessionId);
    assert.match(gone.exchange.why, /signature does not verify/);
  });

  it('changing options keeps a memory store\'s sessions (the middleware is rebuilt, the sessions are not lost)', async () => {
    let options = validateOptions({});
    const { id, client } = await fresh(options);
    await write(client, id, 'k', 'v');
    options = validateOptions({ rolling: true }, options);
    await submitOptionsForm(lab.baseUrl, id, options);
    const reply = await visit(client, id);
    assert.equal((reply.exchange.sessionBefore as Record<string, unknown> | null)?.k, 'v');
    assert.match(reply.exchange.why, /rolling is on/);
  });
});

describe('changing cookie options while a session lives', () => {
  it('the stored session keeps the cookie settings it was created with; the lab says so, and regenerate picks up the new ones', async () => {
    const { id, client } = await fresh({ rolling: true });
    await write(client, id, 'k', 'v');
    await updateOptions(lab.baseUrl, id, { cookie: { httpOnly: false, sameSite: 'lax' } });
    const returning = await visit(client, id);
    const header = onlyCookie(returning);
    assert.ok(attributes(header).includes('HttpOnly'), 'still HttpOnly: express-session rebuilt the cookie from the stored session');
    assert.doesNotMatch(header, /SameSite/);
    assert.match(returning.exchange.why, /apply only to new sessions/);
    const regenerated = await act(client, id, 'regenerate');
    const fresher = onlyCookie(regenerated);
    assert.ok(!attributes(fresher).includes('HttpOnly'), fresher);
    assert.ok(attributes(fresher).includes('SameSite=Lax'), fresher);
    assert.doesNotMatch(regenerated.exchange.why, /apply only to new sessions/);
  });

  it(
    'with sameSite "auto" and nothing changed, the lab does not claim the session was created with other settings',
    async () => {
      const { id, client } = await fresh({ rolling: true, cookie: { sameSite: 'auto' } });
      await write(client, id, 'k', 'v');
      const reply = await visit(client, id);
      assert.match(onlyCookie(reply), /; SameSite=Lax$/);
      assert.doesNotMatch(reply.exchange.why, /apply only to new sessions/);
    },
  );

  it(
    'with nothing changed, the lab never claims the session was created with another maxAge (300 rolling visits)',
    async () => {
      const { id, client } = await fresh({ rolling: true });
      await write(client, id, 'k', 'v');
      const falseNotes: string[] = [];
      for (let i = 0; i < 300; i++) {
        const reply = await visit(client, id);
        if (/apply only to new sessions/.test(reply.exchange.why)) falseNotes.push(reply.exchange.why);
      }
      assert.deepEqual(falseNotes, []);
    },
  );
});

describe('regenerate', () => {
  it('gives the session a new id: the old one is destroyed, the new one set, and its cookie sent', async () => {
    const { id, client } = await fresh();
    const written = await write(client, id, 'k', 'v');
    const oldId = written.exchange.sessionId!;
    const reply = await act(client, id, 'regenerate');
    const header = onlyCookie(reply);
    const newId = sessionIdOf(header);
    assert.notEqual(newId, oldId);
    assert.equal(reply.exchange.sessionId, newId);
    assert.deepEqual(reply.exchange.storeCalls.map((c) => [c.op, c.sid]), [['get', oldId], ['destroy', oldId], ['set', newId]]);
    assert.match(reply.exchange.why, /^sent: .*req\.session\.regenerate\(\) replaced the session with one under a new id/);
    assert.match(reply.exchange.whyStore, /^store\.destroy\([^)]+\) removed the stored session; store\.set\(\) saved the new session under its new id\.$/);
    assert.deepEqual(Object.keys(reply.exchange.sessionAfter ?? {}), ['cookie'], 'the new session starts empty');
  });

  it('the old cookie no longer finds a session', async () => {
    const { id, client } = await fresh();
    await write(client, id, 'k', 'v');
    const oldCookie = client.jar.get('mycookie')!;
    await act(client, id, 'regenerate');
    const stale = new CookieClient(lab.baseUrl);
    stale.jar.set('mycookie', oldCookie);
    const reply = await visit(stale, id);
    assert.equal(reply.exchange.storeCalls[0]?.found, false);
    assert.equal(reply.exchange.sessionBefore, null);
  });
});

describe('destroy', () => {
  it('removes the session from the store, sends no Set-Cookie, and the browser keeps its cookie', async () => {
    const { id, client } = await fresh();
    const written = await write(client, id, 'k', 'v');
    const reply = await act(client, id, 'destroy');
    assertNoCookie(reply);
    assert.equal(reply.exchange.sessionAfter, null);
    assert.deepEqual(reply.exchange.storeCalls.map((c) => [c.op, c.sid]), [['get', written.exchange.sessionId], ['destroy', written.exchange.sessionId]]);
    assert.match(reply.exchange.why, /does not clear the browser's cookie/);
    assert.match(reply.exchange.whyStore, /^store\.destroy\([^)]+\) removed the stored session\.$/);
    assert.ok(client.jar.has('mycookie'), 'nothing told the browser to drop it');
  });

  it('the kept cookie then names a session the store no longer has: a new session', async () => {
    const { id, client } = await fresh();
    const written = await write(client, id, 'k', 'v');
    await act(client, id, 'destroy');
    const reply = await visit(client, id);
    assert.equal(reply.exchange.requestCookieAnatomy?.sessionId, written.exchange.sessionId);
    assert.equal(reply.exchange.storeCalls[0]?.found, false);
    assert.notEqual(reply.exchange.sessionId, written.exchange.sessionId);
    assert.match(reply.exchange.why, /the store has no session/);
  });
});

describe('destroy and regenerate when no stored session existed', () => {
  for (const action of ['destroy', 'regenerate'] as const) {
    it(`${action} with no cookie: destroy() is called on the new id, and the lab does not claim a stored session was removed`, async () => {
      const { id, client } = await fresh();
      const reply = await act(client, id, action);
      const destroyed = reply.exchange.storeCalls.find((c) => c.op === 'destroy');
      assert.ok(destroyed, 'express-session still calls store.destroy()');
      assert.doesNotMatch(reply.exchange.whyStore, /removed the stored session/);
      assert.match(reply.exchange.whyStore, /was called on the current id, but the store never held that session \(the session was new: no cookie named a stored one\), so nothing was removed/);
    });
  }

  it('destroy with a cookie naming a session the store does not have: said so', async () => {
    const { id, client } = await fresh();
    await write(client, id, 'k', 'v');
    await act(client, id, 'destroy');
    const reply = await act(client, id, 'destroy');
    assert.match(reply.exchange.whyStore, /the cookie named a session it did not have\), so nothing was removed/);
  });
});

describe('unset option', () => {
  it('"keep" (the article\'s): setting req.session to null sends no cookie and leaves the stored session', async () => {
    const { id, client } = await fresh({ unset: 'keep' });
    const written = await write(client, id, 'k', 'v');
    const reply = await act(client, id, 'unset');
    assertNoCookie(reply);
    assert.deepEqual(ops(reply.exchange), ['get'], 'no store.destroy');
    assert.match(reply.exchange.why, /req\.session was set to null/);
    assert.match(reply.exchange.why, /With unset: "keep" the stored session stays in the store, and the browser keeps its cookie/);
    assert.match(reply.exchange.whyStore, /unset is "keep"/);
    const next = await visit(client, id);
    assert.equal(next.exchange.sessionId, written.exchange.sessionId);
    assert.equal((next.exchange.sessionBefore as Record<string, unknown> | null)?.k, 'v');
  });

  it('"destroy": setting req.session to null deletes the stored session', async () => {
    const { id, client } = await fresh({ unset: 'destroy' });
    const written = await write(client, id, 'k', 'v');
    const reply = await act(client, id, 'unset');
    assertNoCookie(reply);
    assert.deepEqual(reply.exchange.storeCalls.map((c) => [c.op, c.sid]), [['get', written.exchange.sessionId], ['destroy', written.exchange.sessionId]]);
    assert.equal(reply.exchange.sessionAfter, null);
    assert.match(reply.exchange.why, /With unset: "destroy" it also called store\.destroy\(\) on the session's id/);
    assert.match(reply.exchange.whyStore, /unset is "destroy", so setting req\.session to null called destroy: store\.destroy\([^)]+\) removed the stored session/);
    const next = await visit(client, id);
    assert.equal(next.exchange.storeCalls[0]?.found, false);
    assert.equal(next.exchange.sessionBefore, null);
  });
});

describe('store option across a restart', () => {
  it('"sqlite" sessions survive restart(); "memory" ones do not', async () => {
    let own = await startLab();
    try {
      const sqlite = await createSandbox(own.baseUrl, { store: 'database' });
      const memory = await createSandbox(own.baseUrl, { store: 'memory' });
      const sqliteBrowser = new CookieClient(own.baseUrl);
      const memoryBrowser = new CookieClient(own.baseUrl);
      const keptWrite = await write(sqliteBrowser, sqlite, 'cart', 'apples');
      const lostWrite = await write(memoryBrowser, memory, 'cart', 'pears');

      own = await own.restart();

      const kept = await visit(sqliteBrowser.at(own.baseUrl), sqlite);
      assert.equal(kept.exchange.sessionId, keptWrite.exchange.sessionId);
      assert.equal(kept.exchange.storeCalls[0]?.found, true);
      assert.equal((kept.exchange.sessionBefore as Record<string, unknown> | null)?.cart, 'apples');
      assert.match(kept.exchange.why, /session is unchanged/);

      const lost = await visit(memoryBrowser.at(own.baseUrl), memory);
      assert.equal(lost.exchange.requestCookieAnatomy?.verdict, 'valid', 'the cookie itself is still good');
      assert.equal(lost.exchange.storeCalls[0]?.found, false);
      assert.notEqual(lost.exchange.sessionId, lostWrite.exchange.sessionId);
      assert.equal(lost.exchange.sessionBefore, null);
      assert.match(lost.exchange.why, /the store has no session .* lost when the store was/);
    } finally {
      await own.stop();
    }
  });
});

describe('bad sandbox requests', () => {
  for (const [label, body, field] of [
    ['the key "__proto__"', { key: '__proto__', value: 'x' }, 'key'],
    ['the key "cookie"', { key: 'cookie', value: 'x' }, 'key'],
    ['the key "save"', { key: 'save', value: 'x' }, 'key'],
    ['the key "id"', { key: 'id', value: 'x' }, 'key'],
    ['the key "constructor"', { key: 'constructor', value: 'x' }, 'key'],
    ['an empty key', { key: '', value: 'x' }, 'key'],
    ['a key with a space', { key: 'a b', value: 'x' }, 'key'],
    ['a key starting with a digit', { key: '1a', value: 'x' }, 'key'],
    ['no key', { value: 'x' }, 'key'],
    ['a missing value', { key: 'a' }, 'value'],
    ['a null value', { key: 'a', value: null }, 'value'],
    ['an object value', { key: 'a', value: { nested: true } }, 'value'],
    ['a value over 2000 characters', { key: 'a', value: 'v'.repeat(2001) }, 'value'],
  ] as const) {
    it(`a write with ${label} answers 400 naming "${field}", and records no exchange`, async () => {
      const { id, client } = await fresh();
      const first = await write(client, id, 'ok', 'yes');
      const res = await client.request(`/sandbox/${id}/write`, { method: 'POST', json: body });
      assert.equal(res.status, 400);
      assert.deepEqual(res.headers.getSetCookie(), []);
      const error = (await res.json()) as ApiError;
      assert.equal(error.error.field, field);
      assert.ok(error.error.message.length > 0);
      const next = await visit(client, id);
      assert.equal(next.exchange.number, first.exchange.number + 1, 'the refused write was not recorded as an exchange');
      assert.deepEqual(Object.keys(next.exchange.sessionBefore ?? {}).sort(), ['cookie', 'ok'], 'nothing was written');
    });
  }

  it('a write whose body is over 10 kB answers 413 JSON, never 500, and records no exchange', async () => {
    const { id, client } = await fresh();
    const first = await visit(client, id);
    const res = await client.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'a', value: 'x'.repeat(20_000) } });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as ApiError).error.message, /too large/);
    assert.equal((await visit(client, id)).exchange.number, first.exchange.number + 1);
  });

  it('a write with malformed JSON answers 400 JSON, never 500', async () => {
    const { id, client } = await fresh();
    const res = await client.request(`/sandbox/${id}/write`, { method: 'POST', body: '{"key": "a",', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as ApiError).error.message, /not valid JSON/);
  });

  it('a write with no body at all answers 400 naming "key"', async () => {
    const { id, client } = await fresh();
    const res = await client.request(`/sandbox/${id}/write`, { method: 'POST' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ApiError).error.field, 'key');
  });

  for (const ms of ['abc', '999999', '5001', '-5', '1.5', '1e3', '']) {
    it(`slow?ms=${ms} answers 400 naming "ms"`, async () => {
      const { id, client } = await fresh();
      const res = await client.request(`/sandbox/${id}/slow?ms=${ms}`);
      assert.equal(res.status, 400);
      const error = (await res.json()) as ApiError;
      assert.equal(error.error.field, 'ms');
      assert.match(error.error.message, /0 to 5000/);
    });
  }

  it('slow?ms=0 is accepted and recorded with its delay', async () => {
    const { id, client } = await fresh();
    const reply = await slow(client, id, 0);
    assert.equal(reply.exchange.action, 'slow');
    assert.deepEqual(reply.exchange.input, { ms: 0 });
  });

  it('a sandbox request to an unknown sandbox answers 404 JSON', async () => {
    const res = await requestJson(lab.baseUrl, '/sandbox/AAAAAAAAAAAAAAAAAAAAAA/visit');
    assert.equal(res.status, 404);
    assert.equal(typeof (res.json as ApiError).error.message, 'string');
  });

  it('an id with a percent-encoded character answers 404, not a session-less answer', async () => {
    const { id } = await fresh();
    const encoded = `%${id.charCodeAt(0).toString(16).toUpperCase()}${id.slice(1)}`;
    const res = await requestJson(lab.baseUrl, `/sandbox/${encoded}/visit`);
    assert.equal(res.status, 404);
  });

  it('sandbox actions that change state only answer POST', async () => {
    const { id } = await fresh();
    for (const action of ['write', 'regenerate', 'destroy', 'unset']) {
      const res = await requestJson(lab.baseUrl, `/sandbox/${id}/${action}`);
      assert.equal(res.status, 404, `GET /sandbox/:id/${action}`);
    }
  });
});

describe('the exchange history', () => {
  it('numbers each recorded exchange, with its action, method, path and status', async () => {
    const { id, client, path } = await fresh();
    const replies = [await visit(client, id), await write(client, id, 'k', 'v'), await slow(client, id, 1), await act(client, id, 'regenerate')];
    assert.deepEqual(
      replies.map((r) => [r.exchange.number, r.exchange.action, r.exchange.method, r.exchange.status]),
      [
        [1, 'visit', 'GET', 200],
        [2, 'write', 'POST', 200],
        [3, 'slow', 'GET', 200],
        [4, 'regenerate', 'POST', 200],
      ],
    );
    assert.equal(replies[0]!.exchange.path, `${path}/visit`);
    for (const { exchange } of replies) assert.ok(Date.parse(exchange.startedAt) <= Date.parse(exchange.finishedAt));
  });

  it('each exchange appears in GET /api/sandboxes/:id/exchanges', async () => {
    const { id, client } = await fresh();
    const replies = [await visit(client, id), await write(client, id, 'k', 'v'), await act(client, id, 'destroy')];
    const res = await getExchanges(lab.baseUrl, id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.exchanges, replies.map((r) => r.exchange));
  });

  it('keeps at most the 20 latest exchanges', async () => {
    const { id, client } = await fresh();
    for (let i = 0; i < 23; i++) await visit(client, id);
    const res = await getExchanges(lab.baseUrl, id);
    assert.equal(res.status, 200);
    assert.equal(res.json.exchanges.length, 20);
    assert.deepEqual(res.json.exchanges.map((e) => e.number), Array.from({ length: 20 }, (_, i) => i + 4));
  });

  it('keeps at most the 20 latest exchanges (seen in the registry, not only through the API)', async () => {
    const { id, client } = await fresh();
    for (let i = 0; i < 23; i++) await visit(client, id);
    const sandbox = await lab.registry.find(id);
    assert.ok(sandbox);
    assert.equal(sandbox.exchanges.length, 20);
    assert.deepEqual(sandbox.exchanges.map((e) => e.number), Array.from({ length: 20 }, (_, i) => i + 4));
  });

  it('records the options in force for each exchange', async () => {
    const { id, client } = await fresh({ rolling: true });
    const reply = await visit(client, id);
    assert.deepEqual(reply.exchange.options, { ...articleOptions, rolling: true });
  });
});
