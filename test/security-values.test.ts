// What a learner may store in a session: reserved and prototype-ish keys are refused, markup is
// stored as text and always rendered escaped, pug's option names are plain data, over-long values
// are refused, and after all of it no prototype in this process has been polluted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { course, watchConsoleErrors, type ErrorLog } from './support/watch.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, send, requestJson, sendForm, rawGet, createSandbox, readExchanges, healthy, assertRejected } from './support/http.ts';

let lab: Lab;
let log: ErrorLog;

// Taken before anything ran: what every built-in prototype looked like.
const pristine = new Map<object, Map<string | symbol, PropertyDescriptor>>(
  [Object.prototype, Array.prototype, String.prototype, Function.prototype, Number.prototype, Boolean.prototype].map((proto) => [
    proto,
    new Map(Reflect.ownKeys(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)!])),
  ]),
);

function assertPrototypesUntouched(): void {
  const probe = {} as Record<string, unknown>;
  for (const name of ['polluted', 'isAdmin', 'debug', 'self', 'basedir', 'compileDebug', 'filename']) {
    assert.equal(probe[name], undefined, `({}).${name} is defined: Object.prototype was polluted`);
    assert.equal(([] as unknown as Record<string, unknown>)[name], undefined, `[].${name} is defined`);
  }
  for (const [proto, keys] of pristine) {
    assert.deepEqual(new Set(Reflect.ownKeys(proto)), new Set(keys.keys()), 'a built-in prototype gained or lost a property');
    for (const [key, descriptor] of keys) assert.deepEqual(Object.getOwnPropertyDescriptor(proto, key), descriptor, `a built-in prototype's ${String(key)} changed`);
  }
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

before(async () => {
  lab = await startLab();
  log = watchConsoleErrors({ quiet: true });
});
after(async () => {
  log.restore();
  await lab.stop();
});

async function writeJson(id: string, key: unknown, value: unknown, client?: CookieClient) {
  if (client) {
    const res = await client.request(`/sandbox/${id}/write`, { method: 'POST', json: { key, value } });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }
  return requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key, value } });
}

describe('keys a session value may not take', () => {
  const reserved = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'cookie', 'id', 'req', 'save', 'reload', 'regenerate', 'destroy', 'touch', 'resetMaxAge'];

  it('are refused with 400 naming the key, as JSON and as a form, and the session keeps working', async () => {
    const id = await createSandbox(lab.baseUrl, { store: 'database' });
    const learner = new CookieClient(lab.baseUrl);
    assert.equal((await writeJson(id, 'user', 'ada', learner)).status, 200);
    const before = (await readExchanges(lab.baseUrl, id)).map((e) => e.number);
    for (const key of reserved) {
      const asJson = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key, value: 'x' }, headers: { cookie: learner.cookieHeader()! } });
      assert.equal(asJson.status, 400, `key ${key} (JSON)`);
      assert.equal((asJson.json as { error: { field: string } }).error.field, 'key');
      assert.match(assertRejected(asJson, key), new RegExp(`"${key.replace(/\$/g, '\\$')}"`), 'the message names the key');
      const asForm = await sendForm(lab.baseUrl, `/sandbox/${id}/write`, new URLSearchParams({ key, value: 'x' }), { cookie: learner.cookieHeader()!, accept: 'application/json' });
      // A form named "__proto__" arrives as no key at all (the body parser drops it): refused all the same.
      assert.equal(asForm.status, 400, `key ${key} (form)`);
    }
    assert.deepEqual((await readExchanges(lab.baseUrl, id)).map((e) => e.number), before, 'no refused write reached the session');
    // The session object's own methods were never replaced: the session still saves, regenerates, is destroyed.
    const visit = (await (await learner.request(`/sandbox/${id}/visit`)).json()) as Exchange;
    assert.deepEqual(Object.keys(visit.sessionAfter as object).sort(), ['cookie', 'user']);
    for (const action of ['regenerate', 'destroy']) {
      const res = await learner.request(`/sandbox/${id}/${action}`, { method: 'POST' });
      assert.equal(res.status, 200, action);
      assert.equal(((await res.json()) as Exchange).error, null);
    }
    assertPrototypesUntouched();
  });

  it(
    'include "prototype"',
    async () => {
      const id = await createSandbox(lab.baseUrl);
      const res = await writeJson(id, 'prototype', 'x');
      assert.equal(res.status, 400);
    },
  );
});

describe('markup in values', () => {
  const script = '<script>alert(1)</script>';
  const image = '"><img src=x onerror=alert(1)>';

  function assertEscaped(html: string, where: string): void {
    assert.ok(!html.includes(script), `${where}: the <script> value came back as markup`);
    assert.ok(!html.includes('<img src=x onerror=alert(1)>'), `${where}: the <img> value came back as markup`);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), `${where}: the <script> value is shown, escaped`);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), `${where}: the <img> value is shown, escaped`);
  }

  it('is stored as text, and rendered escaped in the htmx fragment and on the sandbox page', async () => {
    const id = await createSandbox(lab.baseUrl);
    const learner = new CookieClient(lab.baseUrl);
    const first = await writeJson(id, 'xss1', script, learner);
    assert.equal(first.status, 200);
    assert.equal(((JSON.parse(first.text) as Exchange).sessionAfter as unknown as Record<string, unknown>).xss1, script, 'stored exactly as sent');
    const fragment = await learner.request(`/sandbox/${id}/write`, {
      method: 'POST',
      headers: { 'hx-request': 'true', accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: 'xss2', value: image }).toString(),
    });
    assert.equal(fragment.status, 200);
    assert.match(fragment.headers.get('content-type') ?? '', /text\/html/);
    assertEscaped(await fragment.text(), 'htmx fragment');
    const page = await send(lab.baseUrl, `/sandbox/${id}`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assertEscaped(page.text, 'sandbox page');
    const stored = (await readExchanges(lab.baseUrl, id)).at(-1)!.sessionAfter as unknown as Record<string, unknown>;
    assert.equal(stored.xss1, script);
    assert.equal(stored.xss2, image);
  });

  it('in a Cookie header, a path, or a secret is rendered escaped too', async () => {
    const secret = `</textarea>${script}`;
    const id = await createSandbox(lab.baseUrl, { secret: [secret] });
    const viaCookie = await send(lab.baseUrl, `/sandbox/${id}/visit`, { headers: { accept: 'text/html', 'hx-request': 'true', cookie: `mycookie=${script}; ${image.replace(/ /g, '')}=${image}` } });
    assert.equal(viaCookie.status, 200);
    assert.ok(!viaCookie.text.includes(script) && !viaCookie.text.includes('<img src=x'), 'a Cookie header came back as markup');
    // A raw path with markup in its query (a browser would percent-encode it; a script need not).
    const raw = await rawGet(lab.baseUrl, `/sandbox/${id}/visit?q="><img/src=x/onerror=alert(1)>`, { 'hx-request': 'true', accept: 'text/html' });
    assert.equal(raw.status, 200);
    assert.ok(!raw.body.includes('<img/src=x'), 'the request path came back as markup');
    const page = await send(lab.baseUrl, `/sandbox/${id}`, { headers: { accept: 'text/html' } });
    assert.ok(!page.text.includes(script) && !page.text.includes('<img/src=x') && !page.text.includes('</textarea><script>'), 'the sandbox page echoed markup');
    assert.ok(page.text.includes('&lt;/textarea&gt;&lt;script&gt;'), 'the secret is shown in the form, escaped');
  });
});

describe('pug option names as session keys and values', () => {
  const names = ['basedir', 'filename', 'self', 'debug', 'compileDebug', 'pretty', 'globals', 'cache', 'doctype', 'plugins', 'filters'];

  /** The page's shape: every element id, and how many script tags. */
  function shape(html: string): { ids: string[]; scripts: number } {
    return { ids: [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!).sort(), scripts: (html.match(/<script\b/g) ?? []).length };
  }

  it('never alter rendering: the page and fragment keep their shape and show the values as text', async () => {
    const plain = await createSandbox(lab.baseUrl);
    const plainLearner = new CookieClient(lab.baseUrl);
    assert.equal((await writeJson(plain, 'user', 'ada', plainLearner)).status, 200);
    const baseline = shape((await send(lab.baseUrl, `/sandbox/${plain}`, { headers: { accept: 'text/html' } })).text);

    const id = await createSandbox(lab.baseUrl);
    const learner = new CookieClient(lab.baseUrl);
    for (const name of names) {
      for (const value of [true, '/etc/passwd', '#{7*7}', name]) {
        const res = await writeJson(id, name, value, learner);
        assert.equal(res.status, 200, `writing ${name} = ${String(value)}`);
      }
    }
    const fragment = await learner.request(`/sandbox/${id}/visit`, { headers: { 'hx-request': 'true', accept: 'text/html' } });
    assert.equal(fragment.status, 200);
    const fragmentText = await fragment.text();
    const page = await send(lab.baseUrl, `/sandbox/${id}`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.deepEqual(shape(page.text), baseline, 'the page has the same elements as any other sandbox page');
    for (const html of [page.text, fragmentText]) {
      assert.ok(!/root:x:0:0/.test(html), 'a file was read');
      assert.ok(html.includes('&quot;filename&quot;: &quot;filename&quot;'), 'the values are shown as data');
    }
    assert.ok(page.text.trim().endsWith('</html>'), 'the page is complete');
    // Another learner's page, rendered after these, is unaffected.
    assert.deepEqual(shape((await send(lab.baseUrl, `/sandbox/${plain}`, { headers: { accept: 'text/html' } })).text), baseline);
    const lesson = course()[0]!;
    const lessonPage = await send(lab.baseUrl, `/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } });
    assert.equal(lessonPage.status, 200);
    assertPrototypesUntouched();
  });
});

describe('very long values', () => {
  it('2000 characters are stored; 2001 are refused with 400 naming value (JSON and form); a body over 10 kB gets 413', async () => {
    const id = await createSandbox(lab.baseUrl);
    const ok = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'long', value: 'x'.repeat(2000) } });
    assert.equal(ok.status, 200);
    const before = (await readExchanges(lab.baseUrl, id)).map((e) => e.number);
    for (const length of [2001, 5000, 9000]) {
      const asJson = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'long', value: 'x'.repeat(length) } });
      assert.equal(asJson.status, 400, `${length} characters (JSON)`);
      assert.equal((asJson.json as { error: { field: string } }).error.field, 'value');
      assert.match(assertRejected(asJson, 'long value'), /2000/);
      const asForm = await sendForm(lab.baseUrl, `/sandbox/${id}/write`, new URLSearchParams({ key: 'long', value: 'y'.repeat(length) }), { accept: 'application/json' });
      assert.equal(asForm.status, 400, `${length} characters (form)`);
    }
    // Multi-byte characters: the limit counts characters, and a long one is still refused.
    assert.equal((await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'long', value: '€'.repeat(2001) } })).status, 400);
    const tooBig = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'long', value: 'z'.repeat(11_000) } });
    assert.equal(tooBig.status, 413);
    assert.match(assertRejected(tooBig, 'body too large'), /too large/);
    assert.deepEqual((await readExchanges(lab.baseUrl, id)).map((e) => e.number), before);
  });
});

describe('prototype pollution', () => {
  it('no JSON body, form, query string, Cookie header or import pollutes any prototype in the process', async () => {
    const id = await createSandbox(lab.baseUrl);
    const polluting = [
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"cookie":{"__proto__":{"polluted":"yes"}}}',
      '{"cookie":{"constructor":{"prototype":{"polluted":"yes"}}}}',
      '{"secret":["a"],"__proto__":{"isAdmin":true}}',
      '[{"__proto__":{"polluted":"yes"}}]',
    ];
    for (const body of polluting) {
      for (const [method, path] of [['POST', '/api/sandboxes'], ['PUT', `/api/sandboxes/${id}/options`]] as const) {
        const answer = await send(lab.baseUrl, path, { method, headers: { 'content-type': 'application/json', accept: 'application/json' }, body });
        assert.equal(answer.status, 400, `${method} ${path} ${body}`);
      }
      const write = await send(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: body.replace(/^\{/, '{"key":"k","value":"v",').replace(/^\[/, '[') });
      assert.ok(write.status === 200 || write.status === 400, `write ${body}: ${write.status}`);
      assertPrototypesUntouched();
    }
    for (const form of ['__proto__[polluted]=yes&key=k&value=v', 'constructor[prototype][polluted]=yes&key=k&value=v', '__proto__.polluted=yes&key=k&value=v', 'key=k&value=v&__proto__=x&toString=y&hasOwnProperty=z']) {
      const write = await sendForm(lab.baseUrl, `/sandbox/${id}/write`, form, { accept: 'application/json' });
      assert.equal(write.status, 200, form);
      const options = await sendForm(lab.baseUrl, `/sandbox/${id}/options`, `${form}&name=mycookie&secret=s&secure=false&unset=keep&store=memory`);
      assert.ok(options.status === 303 || options.status === 400, `options form ${form}: ${options.status}`);
      assertPrototypesUntouched();
    }
    for (const query of ['__proto__[polluted]=yes&ms=1', 'constructor[prototype][polluted]=yes&ms=1', '__proto__=1&ms=1']) {
      const slow = await send(lab.baseUrl, `/sandbox/${id}/slow?${query}`, { headers: { accept: 'application/json' } });
      assert.equal(slow.status, 200, query);
    }
    const visit = await send(lab.baseUrl, `/sandbox/${id}/visit`, { headers: { accept: 'application/json', cookie: '__proto__=x; constructor=y; prototype=z; polluted=yes' } });
    assert.equal(visit.status, 200);
    const learner = new CookieClient(lab.baseUrl);
    await (await learner.request(`/lessons/${course()[0]!.slug}`, { headers: { accept: 'text/html' } })).arrayBuffer();
    for (const progress of ['{"__proto__":{"polluted":"yes"},"format":"cookie-lab-progress","version":1,"lessons":{}}', '{"format":"cookie-lab-progress","version":1,"lessons":{"__proto__":{"solved":[]}}}', '{"format":"cookie-lab-progress","version":1,"lessons":{"constructor":{"solved":[]}}}']) {
      const res = await learner.request('/progress/import', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ progress }).toString() });
      assert.ok(res.status === 200 || res.status === 400, `import ${progress}: ${res.status}`);
      await res.arrayBuffer();
    }
    assertPrototypesUntouched();
    // Sessions still behave: a new one has no inherited surprises.
    const fresh = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'after', value: 1 } });
    assert.deepEqual(Object.keys((fresh.json as Exchange).sessionAfter as object).sort(), ['after', 'cookie']);
    await healthy(lab.baseUrl);
    assert.deepEqual(log.serverFailures(), []);
  });
});
