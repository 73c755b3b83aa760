// The JSON API: creating sandboxes, reading and changing their options, listing their exchanges,
// and the errors it answers with (always JSON with a message, the field when one is at fault).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { articleOptions, type SandboxOptions } from '../server/sandbox/options.ts';
import { startLab, testRedisUrl, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, getExchanges, getOptions, putOptions, requestJson, type Answer, type ApiError } from './support/http.ts';
import { visit, write } from './support/sandbox.ts';

const SANDBOX_ID = /^[A-Za-z0-9_-]{22}$/;
/** Well-formed, but no sandbox has it. */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

// One lab for the file (starting one compiles the views and lessons); every test makes its own sandboxes.
let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

interface Created {
  id: string;
  options: SandboxOptions;
  url: string;
}

function assertApiError(res: Answer, status: number, field?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = res.json as ApiError;
  assert.equal(typeof body?.error?.message, 'string', `no error message in ${res.text}`);
  assert.ok(body.error.message.length > 0);
  if (field === undefined) assert.equal(body.error.field, undefined);
  else assert.equal(body.error.field, field);
  assert.doesNotMatch(JSON.stringify(body), /at .*\.ts:\d+/, 'no stack trace in an error answer');
}

describe('POST /api/sandboxes', () => {
  it('with no options creates a sandbox with the article\'s options: 201, id, options, url and Location', async () => {
    const res = await requestJson<Created>(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: {} });
    assert.equal(res.status, 201);
    assert.match(res.json.id, SANDBOX_ID);
    assert.deepEqual(res.json.options, articleOptions);
    assert.equal(res.json.url, `${lab.baseUrl}/sandbox/${res.json.id}`);
    assert.equal(res.headers.get('location'), `/sandbox/${res.json.id}`);
    assert.deepEqual(Object.keys(res.json).sort(), ['id', 'options', 'url']);
  });

  it('with some options applies them over the article\'s, normalized', async () => {
    const res = await requestJson<Created>(lab.baseUrl, '/api/sandboxes', {
      method: 'POST',
      json: { name: 'sid', secret: 'one', cookie: { sameSite: 'Strict', maxAge: null }, rolling: true, store: 'database' },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.json.options, {
      ...articleOptions,
      name: 'sid',
      secret: ['one'],
      cookie: { ...articleOptions.cookie, sameSite: 'strict', maxAge: null },
      rolling: true,
      store: 'database',
    });
  });

  it('with no body at all creates a sandbox with the article\'s options', async () => {
    const res = await requestJson<Created>(lab.baseUrl, '/api/sandboxes', { method: 'POST' });
    assert.equal(res.status, 201);
    assert.deepEqual(res.json.options, articleOptions);
  });

  it('gives every sandbox a different id', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => createSandbox(lab.baseUrl)));
    assert.equal(new Set(ids).size, ids.length);
  });

  describe('when the options are bad', () => {
    for (const [label, json, field] of [
      ['a cookie name with a space', { name: 'my cookie' }, 'name'],
      ['the lab\'s own cookie name', { name: 'cookielab.sid' }, 'name'],
      ['an empty secret list', { secret: [] }, 'secret'],
      ['a non-string secret', { secret: ['ok', 1] }, 'secret[1]'],
      ['a negative maxAge', { cookie: { maxAge: -5 } }, 'cookie.maxAge'],
      ['a maxAge in a string', { cookie: { maxAge: '60000' } }, 'cookie.maxAge'],
      ['cookie.path', { cookie: { path: '/' } }, 'cookie.path'],
      ['an unknown sameSite', { cookie: { sameSite: 'sometimes' } }, 'cookie.sameSite'],
      ['an unknown option', { genid: 'x' }, 'genid'],
      ['an unknown store', { store: 'mongo' }, 'store'],
      ...(testRedisUrl ? [] : ([["store: 'redis' on a lab without Redis (no REDIS_URL)", { store: 'redis' }, 'store']] as const)),
      ['an array instead of an object', [], 'options'],
    ] as const) {
      it(`answers 400 naming the field for ${label}`, async () => {
        const res = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json });
        assertApiError(res, 400, field);
      });
    }

    it('creates no sandbox when it refuses the options', async () => {
      const before = await requestJson<{ liveSandboxes: number }>(lab.baseUrl, '/healthz');
      await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { name: '' } });
      const afterwards = await requestJson<{ liveSandboxes: number }>(lab.baseUrl, '/healthz');
      assert.equal(afterwards.json.liveSandboxes, before.json.liveSandboxes);
    });
  });

  describe('when the body is not usable JSON', () => {
    it('answers 400 with a JSON message for a malformed JSON body, never 500', async () => {
      const res = await requestJson(lab.baseUrl, '/api/sandboxes', {
        method: 'POST',
        body: '{"name": "x",',
        headers: { 'content-type': 'application/json' },
      });
      assertApiError(res, 400);
      assert.match((res.json as ApiError).error.message, /not valid JSON/);
    });

    it('answers 400 for a JSON body that is a bare string', async () => {
      const res = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', body: '"mycookie"', headers: { 'content-type': 'application/json' } });
      assertApiError(res, 400);
    });

    it('answers 413 with a JSON message for a body over 10 kB, never 500', async () => {
      const res = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { name: 'x', padding: 'p'.repeat(20_000) } });
      assertApiError(res, 413);
      assert.match((res.json as ApiError).error.message, /too large/);
    });
  });
});

describe('GET and PUT /api/sandboxes/:id/options', () => {
  it('GET answers the sandbox\'s options', async () => {
    const id = await createSandbox(lab.baseUrl, { name: 'sid', rolling: true });
    const res = await getOptions(lab.baseUrl, id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { ...articleOptions, name: 'sid', rolling: true });
  });

  it('PUT merges the given fields over the current ones, also inside cookie', async () => {
    const id = await createSandbox(lab.baseUrl, { name: 'sid', cookie: { maxAge: 1000 } });
    const res = await putOptions(lab.baseUrl, id, { resave: true, cookie: { sameSite: 'lax' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { ...articleOptions, name: 'sid', resave: true, cookie: { ...articleOptions.cookie, maxAge: 1000, sameSite: 'lax' } });
    assert.deepEqual((await getOptions(lab.baseUrl, id)).json, res.json);
  });

  it('PUT answers 400 naming the field, and leaves the options unchanged', async () => {
    const id = await createSandbox(lab.baseUrl, { rolling: true });
    const before = (await getOptions(lab.baseUrl, id)).json;
    for (const [patch, field] of [
      [{ name: 'a;b' }, 'name'],
      [{ secret: '' }, 'secret'],
      [{ cookie: { maxAge: 1.5 } }, 'cookie.maxAge'],
      [{ cookie: { secure: 'yes' } }, 'cookie.secure'],
      [{ cookie: { domain: 'not a domain' } }, 'cookie.domain'],
      [{ unset: 'drop' }, 'unset'],
      [{ proxy: 'true' }, 'proxy'],
      // A good field before a bad one must not be half-applied.
      [{ resave: true, store: 'disk' }, 'store'],
    ] as const) {
      const res = await putOptions(lab.baseUrl, id, patch);
      assertApiError(res, 400, field);
    }
    const afterwards = await getOptions(lab.baseUrl, id);
    assert.equal(afterwards.status, 200);
    assert.deepEqual(afterwards.json, before);
  });

  it('PUT with a malformed JSON body answers 400 with a JSON message', async () => {
    const id = await createSandbox(lab.baseUrl);
    const res = await requestJson(lab.baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', body: '{', headers: { 'content-type': 'application/json' } });
    assertApiError(res, 400);
  });

  it('a rejected PUT leaves the sandbox behaving as before', async () => {
    // Checked through the sandbox itself, so it holds whether or not GET /options answers.
    const id = await createSandbox(lab.baseUrl, { saveUninitialized: true });
    const res = await putOptions(lab.baseUrl, id, { saveUninitialized: false, name: 'bad name' });
    assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status}`);
    const reply = await visit(new CookieClient(lab.baseUrl), id);
    assert.equal(reply.exchange.options.saveUninitialized, true);
    assert.equal(reply.exchange.options.name, 'mycookie');
    assert.equal(reply.setCookie.length, 1, 'saveUninitialized is still on: a first visit still gets a cookie');
  });

  describe('for a sandbox that does not exist', () => {
    for (const [label, id] of [
      ['an unknown id', UNKNOWN_ID],
      ['a malformed id', 'not-an-id'],
      ['an id one character too long', `${UNKNOWN_ID}A`],
    ] as const) {
      it(`GET answers 404 JSON for ${label}`, async () => {
        assertApiError(await getOptions(lab.baseUrl, id), 404);
      });
      it(`PUT answers 404 JSON for ${label}`, async () => {
        assertApiError(await putOptions(lab.baseUrl, id, { resave: true }), 404);
      });
    }
  });
});

describe('across a restart', () => {
  // Its own lab: restart() stops the one it is called on.
  let restarted: Lab;
  let changed: string;
  let created: string;
  before(async () => {
    const own = await startLab();
    changed = await createSandbox(own.baseUrl, { name: 'kept' });
    const put = await putOptions(own.baseUrl, changed, { rolling: true, cookie: { sameSite: 'none', secure: true } });
    assert.equal(put.status, 200);
    created = await createSandbox(own.baseUrl, { name: 'born_with', cookie: { sameSite: 'strict' } });
    restarted = await own.restart();
  });
  after(() => restarted.stop());

  it('options changed through PUT survive it', async () => {
    const res = await getOptions(restarted.baseUrl, changed);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { ...articleOptions, name: 'kept', rolling: true, cookie: { ...articleOptions.cookie, sameSite: 'none', secure: true } });
  });

  it('options given at creation survive it, and the sandbox acts on them', async () => {
    assert.equal((await getOptions(restarted.baseUrl, created)).json.name, 'born_with');
    const reply = await write(new CookieClient(restarted.baseUrl), created, 'k', 'v');
    assert.equal(reply.exchange.options.name, 'born_with');
    assert.match(reply.setCookie[0] ?? '', /^born_with=.*; SameSite=Strict$/);
  });
});

describe('GET /api/sandboxes/:id/exchanges', () => {
  it('is empty for a new sandbox', async () => {
    const id = await createSandbox(lab.baseUrl);
    const res = await getExchanges(lab.baseUrl, id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { exchanges: [] });
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('lists each sandbox request, oldest first, as the request answered it', async () => {
    const id = await createSandbox(lab.baseUrl);
    const client = new CookieClient(lab.baseUrl);
    const first = await visit(client, id);
    const second = await write(client, id, 'colour', 'blue');
    const res = await getExchanges(lab.baseUrl, id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.exchanges, [first.exchange, second.exchange]);
    assert.deepEqual(res.json.exchanges.map((e) => [e.number, e.action]), [[1, 'visit'], [2, 'write']]);
  });

  it('answers 404 JSON for an unknown or malformed id', async () => {
    assertApiError(await getExchanges(lab.baseUrl, UNKNOWN_ID), 404);
    assertApiError(await getExchanges(lab.baseUrl, 'nope'), 404);
  });
});

describe('the rest of the API surface', () => {
  it('/healthz answers 200 JSON, not cached', async () => {
    const res = await requestJson<{ status: string; liveSandboxes: number }>(lab.baseUrl, '/healthz');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(res.json.status, 'ok');
    assert.equal(typeof res.json.liveSandboxes, 'number');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('/healthz counts the live sandboxes', async () => {
    const before = (await requestJson<{ liveSandboxes: number }>(lab.baseUrl, '/healthz')).json.liveSandboxes;
    await createSandbox(lab.baseUrl);
    const afterwards = (await requestJson<{ liveSandboxes: number }>(lab.baseUrl, '/healthz')).json.liveSandboxes;
    assert.equal(afterwards, before + 1);
  });

  it('an unknown /api/ path answers 404 JSON', async () => {
    assertApiError(await requestJson(lab.baseUrl, '/api/nothing-here'), 404);
  });

  it('routing is case-sensitive: /API/sandboxes is not the API', async () => {
    const res = await requestJson(lab.baseUrl, '/API/sandboxes', { method: 'POST', json: {} });
    assert.equal(res.status, 404);
  });

  it('a method the API does not offer answers 404 JSON, not 500', async () => {
    assertApiError(await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'DELETE' }), 404);
  });

  it('OPTIONS is not offered anywhere: 404, not an Allow list from a router', async () => {
    const id = await createSandbox(lab.baseUrl);
    for (const path of ['/api/sandboxes', `/api/sandboxes/${id}/options`, `/sandbox/${id}`, `/sandbox/${id}/visit`, '/lessons', '/progress', '/static/app.css', '/']) {
      const res = await requestJson(lab.baseUrl, path, { method: 'OPTIONS' });
      assert.equal(res.status, 404, `OPTIONS ${path}`);
      assert.equal(res.headers.get('allow'), null, `OPTIONS ${path}`);
    }
  });

  it('sends no X-Powered-By and a strict Content-Security-Policy', async () => {
    const res = await fetch(`${lab.baseUrl}/healthz`);
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  });
});
