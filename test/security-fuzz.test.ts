// Fuzzing every place a learner's input enters, over real HTTP against the real app (fast-check):
// option sets (JSON API and the options form), session writes, slow-request query strings, Cookie
// headers and progress imports. Whatever comes in: never a 500, the app keeps answering, a
// rejected request gets a 4xx naming the problem and changes neither the sandbox's options nor its
// exchanges, and an accepted one leaves a sandbox that still works.
//
// Reproduce a failure with FC_SEED=<seed> (fast-check prints it); FUZZ_SCALE=3 runs three times as many cases.
// Long because each entry point gets its own generator and property, kept side by side.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import session from 'express-session';
import signature from 'cookie-signature';
import { parse as parseCookie } from 'cookie';
import { JsonObject, SPECIAL_NAMES, anyJson, fuzzRuns, nastyNumber, nastyString, optionSet, toJsonText, type JsonValue } from './support/hostile.ts';
import { course, watchConsoleErrors, type ErrorLog } from './support/watch.ts';
import { hostileBody, hostilePost } from './support/hostile-forms.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { STORE_KINDS, type SandboxOptions } from '../server/sandbox/options.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, send, requestJson, createSandbox, readOptions, readExchanges, snapshot, healthy, cookiePairs, assertNoLeak, assertRejected, type Answer } from './support/http.ts';

const check = <Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncPropertyWithHooks<Ts>, numRuns: number) => fc.assert(property, fuzzRuns(numRuns));

/** A name every JavaScript object already has: see the todo test at the end. */
const OBJECT_PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const usesObjectPrototypeName = (body: JsonValue) =>
  body instanceof JsonObject && body.entries.some(([key, value]) => key === 'name' && typeof value === 'string' && OBJECT_PROTOTYPE_NAMES.has(value));

let lab: Lab;
let log: ErrorLog;

before(async () => {
  // Rate limits have their own tests (security-isolation); here they would only get in the way.
  lab = await startLab({ limits: { sandboxesPerMinute: 1e6, sandboxRequestsPerMinute: 1e6, unknownIdsPerMinute: 1e6 } });
  log = watchConsoleErrors({ quiet: true });
});

after(async () => {
  log.restore();
  // Quiet while running; what the server logged about its own failures is shown at the end.
  for (const line of log.serverFailures()) console.error(`server log: ${line}`);
  await lab.stop();
});

/** No 500 was answered or logged, and the app still answers. */
async function stillFine(): Promise<void> {
  await healthy(lab.baseUrl);
  assert.deepEqual(log.serverFailures(), [], 'the server logged a failure of its own');
}

function assertNot500(answer: Answer, context: string): void {
  assert.ok(answer.status < 500, `${context}: answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  assertNoLeak(answer);
}

/** Markup a learner sent must never come back as markup (JSON answers carry it as data, which is fine). */
function assertNoRawMarkup(answer: Answer): void {
  if (!/html/.test(answer.headers.get('content-type') ?? '')) return;
  for (const marker of ['<img src=x', '<svg onload', '<script>alert(']) {
    assert.ok(!answer.text.includes(marker), `raw markup came back: ${marker}`);
  }
}

async function sandboxCount(): Promise<number> {
  return (await lab.db.get<{ n: number }>('SELECT count(*) AS n FROM sandboxes'))!.n;
}

/**
 * The fields a rejection may name: a key the body really had (top level or in cookie), a secret's
 * index, or the whole options/cookie object.
 */
function namableFields(body: JsonValue): Set<string> {
  const fields = new Set(['options', 'cookie']);
  if (!(body instanceof JsonObject)) return fields;
  for (const [key, value] of body.entries) {
    fields.add(key);
    if (key === 'secret' && Array.isArray(value)) value.forEach((_, i) => fields.add(`secret[${i}]`));
    if (key === 'cookie' && value instanceof JsonObject) for (const [cookieKey] of value.entries) fields.add(`cookie.${cookieKey}`);
  }
  return fields;
}

/** What an accepted option set must look like once normalized. */
function assertWellFormed(o: SandboxOptions): void {
  assert.match(o.name, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/);
  assert.notEqual(o.name, 'cookielab.sid');
  assert.ok(Array.isArray(o.secret) && o.secret.length >= 1 && o.secret.length <= 5);
  for (const s of o.secret) assert.ok(typeof s === 'string' && s.trim() !== '' && s.length <= 256);
  assert.ok(o.cookie.maxAge === null || (Number.isInteger(o.cookie.maxAge) && o.cookie.maxAge >= 0 && o.cookie.maxAge <= 315360000000));
  assert.ok([true, false, 'auto'].includes(o.cookie.secure));
  assert.equal(typeof o.cookie.httpOnly, 'boolean');
  assert.ok([false, true, 'lax', 'strict', 'none', 'auto'].includes(o.cookie.sameSite));
  assert.ok(o.cookie.domain === null || /^[.a-z0-9-]+$/.test(o.cookie.domain));
  assert.ok(['keep', 'destroy'].includes(o.unset));
  assert.ok([null, true, false].includes(o.proxy));
  assert.ok((STORE_KINDS as readonly string[]).includes(o.store));
  assert.ok(['off', '*', 'echo'].includes(o.corsOrigin));
  assert.equal(typeof o.corsCredentials, 'boolean');
  assert.deepEqual(Object.keys(o).sort(), ['cookie', 'corsCredentials', 'corsOrigin', 'name', 'proxy', 'resave', 'rolling', 'saveUninitialized', 'secret', 'store', 'unset']);
}

/** An accepted option set leaves a sandbox that answers a write and a visit with cookies in it. */
async function assertSandboxWorks(id: string, o: SandboxOptions): Promise<void> {
  const written = await requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'fuzzcheck', value: 'ok' } });
  assert.equal(written.status, 200, `a write to a sandbox with accepted options ${JSON.stringify(o)}: ${written.text.slice(0, 300)}`);
  assert.equal(((written.json as Exchange).sessionAfter as Record<string, unknown> | null)?.fuzzcheck, 'ok');
  for (const name of cookiePairs(written.headers.getSetCookie()).keys()) assert.equal(name, o.name, 'the cookie carries the configured name');
  const visited = await send(lab.baseUrl, `/sandbox/${id}/visit`, { headers: { accept: 'application/json', cookie: `other=1; ${o.name}=s%3Aforged.sig; cookielab.sid=x` } });
  assert.equal(visited.status, 200, `a visit with cookies to a sandbox with accepted options ${JSON.stringify(o)}: ${visited.text.slice(0, 300)}`);
}

interface RawBody {
  contentType: string;
  text: string;
  /** The JSON value the text holds, when it is JSON sent as JSON. */
  json: JsonValue | undefined;
}

/** Option sets without the names of the todo test at the end (they would break the shared sandboxes). */
const safeOptionSet = optionSet.filter((o) => !usesObjectPrototypeName(o));

const optionBodies: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 12, arbitrary: safeOptionSet.map((o) => ({ contentType: 'application/json', text: toJsonText(o), json: o as JsonValue })) },
  { weight: 2, arbitrary: anyJson.map((v) => ({ contentType: 'application/json', text: toJsonText(v), json: v })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/json; charset=koi8-r', 'application/vnd.api+json', 'multipart/form-data; boundary=x'),
        fc.oneof(nastyString, safeOptionSet.map(toJsonText), fc.constantFrom('{', '{"name":', '[1,', '{"a":1}}', 'null', '', '\u0000')),
      )
      .map(([contentType, text]) => ({ contentType, text, json: undefined })),
  },
).filter((body) => body.json === undefined || !usesObjectPrototypeName(body.json));

describe('fuzz: option sets', () => {
  it('POST /api/sandboxes: 201 with well-formed options and a working sandbox, or a 4xx naming the field and no sandbox created', async () => {
    let accepted = 0;
    await check(
      fc.asyncProperty(optionBodies, async (body) => {
        const before = await sandboxCount();
        const answer = await send(lab.baseUrl, '/api/sandboxes', { method: 'POST', headers: { accept: 'application/json', 'content-type': body.contentType }, body: body.text });
        assertNot500(answer, 'POST /api/sandboxes');
        if (answer.status === 201) {
          accepted++;
          const { id, options: created } = answer.json as { id: string; options: SandboxOptions };
          assertWellFormed(created);
          assert.deepEqual(await readOptions(lab.baseUrl, id), created, 'stored as answered');
          assert.equal(await sandboxCount(), before + 1);
          await assertSandboxWorks(id, created);
          return;
        }
        assertRejected(answer, 'POST /api/sandboxes');
        const error = (answer.json as { error: { field?: string } }).error;
        if (body.json !== undefined && error.field !== undefined) assert.ok(namableFields(body.json).has(error.field), `the field "${error.field}" is not in the body ${body.text.slice(0, 200)}`);
        assert.equal(await sandboxCount(), before, 'a refused option set creates no sandbox');
      }),
      300,
    );
    // About 15% are valid (37 to 48 of 300 here, 25 to 53 of 250 below, in our runs): a floor far
    // below that catches a generator gone wrong without failing on an unlucky seed.
    assert.ok(accepted > fuzzRuns(300).numRuns! / 25, `too few option sets were valid (${accepted}): the generator is off`);
    await stillFine();
  });

  it('PUT /api/sandboxes/:id/options: 200 with the stored options and a working sandbox, or a 4xx and nothing changed', async () => {
    const ids = [await createSandbox(lab.baseUrl, {}), await createSandbox(lab.baseUrl, { store: 'database' })];
    let accepted = 0;
    await check(
      fc.asyncProperty(fc.constantFrom(...ids), optionBodies, async (id, body) => {
        const before = await snapshot(lab.baseUrl, id);
        const answer = await send(lab.baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', headers: { accept: 'application/json', 'content-type': body.contentType }, body: body.text });
        assertNot500(answer, 'PUT options');
        if (answer.status === 200) {
          accepted++;
          const updated = answer.json as SandboxOptions;
          assertWellFormed(updated);
          assert.deepEqual(await readOptions(lab.baseUrl, id), updated);
          await assertSandboxWorks(id, updated);
          return;
        }
        assertRejected(answer, 'PUT options');
        const error = (answer.json as { error: { field?: string } }).error;
        if (body.json !== undefined && error.field !== undefined) assert.ok(namableFields(body.json).has(error.field), `the field "${error.field}" is not in the body`);
        assert.deepEqual(await snapshot(lab.baseUrl, id), before, 'a refused PUT changed the options or the exchanges');
      }),
      250,
    );
    assert.ok(accepted > fuzzRuns(250).numRuns! / 25, `too few option sets were valid (${accepted}): the generator is off`);
    await stillFine();
  });

  it('the options form (POST /sandbox/:id/options): applied (303, or 200 for htmx) or re-rendered with the reason (400), nothing changed, no markup echoed', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    // A complete, valid form (as the page submits it), then none, one or two fields spoiled.
    const validForm = fc.record({
      name: fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/).filter((n) => !OBJECT_PROTOTYPE_NAMES.has(n) && n !== 'cookielab.sid'),
      secret: fc.array(fc.string({ minLength: 1, maxLength: 30 }).filter((l) => l.trim() !== '' && !/[\r\n]/.test(l)), { minLength: 1, maxLength: 5 }).map((lines) => lines.join('\n')),
      maxAge: fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 315360000000 }).map(String)),
      secure: fc.constantFrom('true', 'false', 'auto'),
      httpOnly: fc.constantFrom('on', undefined),
      sameSite: fc.constantFrom('', 'false', 'true', 'lax', 'strict', 'none', 'auto'),
      domain: fc.constantFrom('', 'example.com', '.example.com', '127.0.0.1'),
      resave: fc.constantFrom('on', undefined),
      saveUninitialized: fc.constantFrom('on', undefined),
      rolling: fc.constantFrom('on', undefined),
      unset: fc.constantFrom('keep', 'destroy'),
      proxy: fc.constantFrom('', 'true', 'false'),
      store: fc.constantFrom('memory', 'database'),
      corsOrigin: fc.constantFrom('off', '*', 'echo'),
      corsCredentials: fc.constantFrom('on', undefined),
    });
    const spoilers: Record<string, fc.Arbitrary<string>> = {
      name: fc.oneof(nastyString, fc.constantFrom('', 'my cookie', 'a;b', 'cookielab.sid', 'x'.repeat(65))),
      secret: fc.oneof(nastyString, fc.constantFrom('', '\n\n', ' ', 'x'.repeat(257), 'a\nb\nc\nd\ne\nf')),
      maxAge: fc.oneof(nastyString, fc.constantFrom('-5', '1.5', '6e4', 'abc', '315360000001', ' 60000 ', '０')),
      secure: fc.oneof(nastyString, fc.constantFrom('', 'TRUE', 'yes')),
      sameSite: fc.oneof(nastyString, fc.constantFrom('Lax', 'bogus')),
      domain: fc.oneof(nastyString, fc.constantFrom('a..b', 'ex ample.com', 'bücher.example', '-a.com')),
      unset: fc.oneof(nastyString, fc.constantFrom('', 'Keep', 'delete')),
      proxy: fc.oneof(nastyString, fc.constantFrom('maybe', 'null ')),
      store: fc.oneof(nastyString, fc.constantFrom('', 'redis', 'SQLITE')),
      corsOrigin: fc.oneof(nastyString, fc.constantFrom('ECHO', 'true', 'null')),
      corsCredentials: nastyString,
      httpOnly: nastyString,
      resave: nastyString,
    };
    const spoil = fc.array(fc.oneof(fc.constantFrom(...Object.keys(spoilers)).chain((field) => spoilers[field]!.map((value): [string, string | null] => [field, value])), fc.constantFrom(...Object.keys(spoilers)).map((field): [string, string | null] => [field, null])), { maxLength: 2 });
    const fields = fc.tuple(validForm, fc.oneof({ weight: 1, arbitrary: fc.constant<[string, string | null][]>([]) }, { weight: 2, arbitrary: spoil })).map(([form, changes]) => {
      const values = new Map(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
      for (const [field, value] of changes) {
        if (value === null) values.delete(field);
        else values.set(field, value);
      }
      return [...values];
    });
    const extras = fc.oneof(
      { weight: 5, arbitrary: fc.constant<[string, string][]>([]) },
      { weight: 2, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SPECIAL_NAMES, 'name', 'secret', 'store', 'constructor[prototype][polluted]', '__proto__[polluted]', 'a[b]', 'name[]'), nastyString), nastyString), { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.integer({ min: 40, max: 70 }).map((n) => Array.from({ length: n }, (_, i): [string, string] => [`p${i}`, 'x'])) },
    );
    let applied = 0;
    await check(
      fc.asyncProperty(fields, extras, fc.boolean(), async (known, extra, htmx) => {
        const form = new URLSearchParams([...known, ...extra]);
        // The names of the todo test at the end would break this shared sandbox for every later run.
        const names = form.getAll('name');
        fc.pre(!(names.length === 1 && OBJECT_PROTOTYPE_NAMES.has(names[0]!.trim())));
        const before = await snapshot(lab.baseUrl, id);
        const answer = await send(lab.baseUrl, `/sandbox/${id}/options`, {
          method: 'POST',
          headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...(htmx ? { 'hx-request': 'true' } : {}) },
          body: form.toString(),
        });
        assertNot500(answer, 'the options form');
        assertNoRawMarkup(answer);
        if (answer.status === 303 || answer.status === 200) {
          applied++;
          assert.equal(answer.status, htmx ? 200 : 303);
          const now = await readOptions(lab.baseUrl, id);
          assertWellFormed(now);
          await assertSandboxWorks(id, now);
          return;
        }
        const message = assertRejected(answer, 'the options form');
        if (answer.status === 400) assert.match(message, /Not applied/);
        assert.deepEqual(await snapshot(lab.baseUrl, id), before, 'a refused form changed the options or the exchanges');
      }),
      250,
    );
    assert.ok(applied > fuzzRuns(250).numRuns! / 20, `too few forms were valid (${applied})`);
    await stillFine();
  });

  it('the options form sent as JSON (any value where text is expected): applied, or a 4xx and nothing changed; never a 500', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const fields = ['name', 'secret', 'maxAge', 'secure', 'httpOnly', 'sameSite', 'domain', 'resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store', 'corsOrigin', 'corsCredentials'];
    await check(
      fc.asyncProperty(hostileBody(fields), fc.boolean(), async (body, htmx) => {
        fc.pre(!usesObjectPrototypeName(body));
        const before = await snapshot(lab.baseUrl, id);
        const post = hostilePost(body, 'json');
        const answer = await send(lab.baseUrl, `/sandbox/${id}/options`, { ...post, headers: { ...post.headers, ...(htmx ? { 'hx-request': 'true' } : {}) } });
        assertNot500(answer, 'the options form (JSON)');
        assertNoRawMarkup(answer);
        if (answer.status === 303 || answer.status === 200) {
          const now = await readOptions(lab.baseUrl, id);
          assertWellFormed(now);
          return;
        }
        assertRejected(answer, 'the options form (JSON)');
        assert.deepEqual(await snapshot(lab.baseUrl, id), before, 'a refused form changed the options or the exchanges');
      }),
      150,
    );
    await stillFine();
  });
});

// ------------------------------------------------------------------------------------------------
// Session writes: accepted exactly when the key and value follow the documented rules.

const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
// The rule: what express-session keeps on the session, what every object has, and "prototype".
const RESERVED = new Set(['cookie', 'id', 'req', 'prototype', ...Object.getOwnPropertyNames(session.Session.prototype), ...Object.getOwnPropertyNames(Object.prototype)]);

/** What the write must do with this key and value: store it, or refuse naming the field. */
function expectedWrite(key: unknown, value: unknown): 'ok' | 'key' | 'value' {
  if (typeof key !== 'string' || !KEY.test(key) || RESERVED.has(key)) return 'key';
  if (value === undefined) return 'value';
  if (typeof value === 'string') return value.length > 2000 ? 'value' : 'ok';
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return 'ok';
  return 'value';
}

const writeKey: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,66}$/) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_NAMES) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: anyJson },
);
const writeValue: fc.Arbitrary<JsonValue> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.integer({ min: 1995, max: 2005 }).map((n) => 'v'.repeat(n)) },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: anyJson },
);

describe('fuzz: session writes', () => {
  it('POST /sandbox/:id/write (JSON, form or htmx): stored exactly when key and value are allowed, else 400 naming the field and no exchange', async () => {
    const ids = [await createSandbox(lab.baseUrl, {}), await createSandbox(lab.baseUrl, { store: 'database', name: 'fz.sid' })];
    const jsonBody = fc
      .tuple(
        fc.option(writeKey, { nil: undefined }),
        fc.option(writeValue, { nil: undefined }),
        fc.constantFrom<JsonValue>('1e400', '-1e400'),
        fc.array(fc.tuple(fc.constantFrom(...SPECIAL_NAMES, 'key', 'value'), anyJson), { maxLength: 2 }),
        fc.nat(9),
      )
      .map(([key, value, infinity, extra, shape]) => {
        const entries: [string, JsonValue][] = [...(key === undefined ? [] : [['key', key] as [string, JsonValue]]), ...(value === undefined ? [] : [['value', value] as [string, JsonValue]])];
        let text = toJsonText(new JsonObject(shape === 0 ? [...entries, ...extra] : entries));
        // JSON numbers too large for a double arrive as Infinity.
        if (shape === 1) text = `{"key":"big","value":${String(infinity)}}`;
        if (shape === 2) text = toJsonText(value ?? null);
        return { kind: 'json' as const, text, parsed: tryParse(text) };
      });
    const formBody = fc
      .tuple(
        fc.array(fc.tuple(fc.constantFrom('key', 'value', 'key', 'value', 'KEY', 'key[]', 'k%65y', '__proto__', 'constructor', 'other'), fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,66}$/), fc.constantFrom(...SPECIAL_NAMES), nastyString)), { maxLength: 5 }),
      )
      .map(([pairs]) => ({ kind: 'form' as const, text: new URLSearchParams(pairs).toString(), pairs }));
    let stored = 0;
    await check(
      fc.asyncProperty(fc.constantFrom(...ids), fc.oneof(jsonBody, formBody), fc.constantFrom('json', 'htmx', 'html'), async (id, body, format) => {
        let expected: 'ok' | 'key' | 'value' | 'unparsable';
        let key: unknown;
        let value: unknown;
        if (body.kind === 'json') {
          // body-parser takes only an object or an array at the top; anything else is not JSON to it.
          const parsed = body.parsed;
          if (parsed === undefined || typeof parsed !== 'object' || parsed === null) expected = 'unparsable';
          else {
            ({ key, value } = parsed as Record<string, unknown>);
            expected = expectedWrite(key, value);
          }
        } else {
          // Forms: a name sent twice arrives as a list, which is neither a key nor a value.
          const named = (name: string) => body.pairs.filter(([n]) => n === name).map(([, v]) => wellFormed(v));
          const keys = named('key');
          const values = named('value');
          key = keys.length === 1 ? keys[0] : keys.length === 0 ? undefined : keys;
          value = values.length === 1 ? values[0] : values.length === 0 ? undefined : values;
          expected = expectedWrite(key, value);
        }
        const before = (await readExchanges(lab.baseUrl, id)).map((e) => e.number);
        const accept = { json: 'application/json', htmx: 'text/html', html: 'text/html' }[format];
        const answer = await send(lab.baseUrl, `/sandbox/${id}/write`, {
          method: 'POST',
          headers: { accept, 'content-type': body.kind === 'json' ? 'application/json' : 'application/x-www-form-urlencoded', ...(format === 'htmx' ? { 'hx-request': 'true' } : {}) },
          body: body.text,
        });
        assertNot500(answer, 'write');
        assertNoRawMarkup(answer);
        const after = await readExchanges(lab.baseUrl, id);
        if (expected === 'ok') {
          stored++;
          assert.equal(answer.status, format === 'html' ? 303 : 200, `expected the write of ${JSON.stringify(key)} = ${JSON.stringify(value)?.slice(0, 80)} to be stored: ${answer.text.slice(0, 200)}`);
          const latest = after.at(-1)!;
          assert.ok(!before.includes(latest.number), 'a new exchange was recorded');
          assert.deepEqual(latest.input, { key, value });
          assert.equal((latest.sessionAfter as Record<string, unknown> | null)?.[key as string], value);
          return;
        }
        assert.equal(answer.status, 400, `expected a 400 (${expected}) for ${body.text.slice(0, 120)}: got ${answer.status}`);
        assertRejected(answer, 'write');
        if (format === 'json' && expected !== 'unparsable') assert.equal((answer.json as { error: { field?: string } }).error.field, expected);
        assert.deepEqual(
          after.map((e) => e.number),
          before,
          'a refused write recorded an exchange',
        );
      }),
      400,
    );
    assert.ok(stored > fuzzRuns(400).numRuns! / 10, `too few writes were valid (${stored})`);
    await stillFine();
  });
});

/** What a string becomes on the way through URLSearchParams or a URL: lone surrogates turn into U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------

describe('fuzz: slow-request query strings', () => {
  it('GET /sandbox/:id/slow?…: waits exactly when ms is one whole number from 0 to 5000, else 400 naming ms and no exchange', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const segment = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom('ms', 'ms', 'MS', 'ms[]', 'm%73', 'ms ', 'x'), fc.oneof(fc.integer({ min: 0, max: 25 }).map(String), fc.integer({ min: 4990, max: 5010 }).map(String), fc.constantFrom('0', '00', '000025', '1234567', '-1', '+5', ' 5', '5 ', '1e3', '0x10', '1.0', '', '٣', '１', '%', '%E0%A4%A', '5%00', '1;2'), nastyString)).map(([n, v]) => `${n}=${encodeURIComponent(wellFormed(v))}`) },
      { weight: 1, arbitrary: fc.constantFrom('ms=%', 'ms=%zz', 'ms', '=5', 'ms=5&ms=6', '&&', 'ms=1%00', 'ms=+5', 'ms[0]=1', 'ms=%E0%A4%A', 'ms=5;6', "ms='5'", 'ms=<script>') },
    );
    let waited = 0;
    await check(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), async (segments) => {
        // The query as the server will see it (fetch percent-encodes some characters on the way).
        const url = new URL(`${lab.baseUrl}/sandbox/${id}/slow?${segments.join('&')}`);
        const raw = parseQuery(url.search.slice(1)).ms;
        const ms = raw === undefined ? 2000 : typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
        const valid = Number.isInteger(ms) && ms <= 5000;
        // Keep the run short: long valid waits are covered by the other tests.
        fc.pre(!valid || ms <= 25);
        const before = (await readExchanges(lab.baseUrl, id)).map((e) => e.number);
        const answer = await send(lab.baseUrl, url.pathname + url.search, { headers: { accept: 'application/json' } });
        assertNot500(answer, 'slow');
        if (valid) {
          waited++;
          assert.equal(answer.status, 200, `ms=${ms} should be accepted: ${answer.text.slice(0, 200)}`);
          assert.deepEqual((answer.json as Exchange).input, { ms });
          return;
        }
        assert.equal(answer.status, 400, `${url.search} should be refused: ${answer.text.slice(0, 200)}`);
        assertRejected(answer, 'slow');
        assert.equal((answer.json as { error: { field?: string } }).error.field, 'ms');
        assert.deepEqual((await readExchanges(lab.baseUrl, id)).map((e) => e.number), before);
      }),
      250,
    );
    assert.ok(waited > 5, `too few valid delays (${waited})`);
    await stillFine();
  });
});

// ------------------------------------------------------------------------------------------------

describe('fuzz: Cookie headers', () => {
  it('GET /sandbox/:id/visit with any Cookie header: 200 (or 4xx), never 500, never the victim\'s session', async () => {
    const setups = [
      { options: {}, name: 'mycookie', secret: 'cookiesaregood' },
      { options: { store: 'database', name: 'a.b!', secret: ['current-secret'], saveUninitialized: true }, name: 'a.b!', secret: 'current-secret' },
    ];
    const victims: { id: string; setup: (typeof setups)[number]; victim: CookieClient; sid: string; value: string; marker: string; hostile: string[] }[] = [];
    for (const setup of setups) {
      const id = await createSandbox(lab.baseUrl, setup.options);
      const victim = new CookieClient(lab.baseUrl);
      const res = await victim.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'secretOfVictim', value: `victim-data-${id}` } });
      assert.equal(res.status, 200);
      const exchange = (await res.json()) as Exchange;
      const value = victim.jar.get(setup.name)!;
      const sid = exchange.sessionId!;
      const sig = decodeURIComponent(value).split('.').at(-1)!;
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const hostile = [
        `${setup.name}=${sid}`,
        `${setup.name}=s%3A${sid}`,
        `${setup.name}=s:${sid}.`,
        `${setup.name}=s%3A${sid}.${encodeURIComponent(flip(sig, 0))}`,
        `${setup.name}=s%3A${sid}.${encodeURIComponent(flip(sig, sig.length - 1))}`,
        `${setup.name}=s%3A${sid}.${encodeURIComponent(signature.sign(sid, 'a-removed-secret').split('.').at(-1)!)}`,
        `${setup.name}=${encodeURIComponent(signature.sign(sid, 'a-removed-secret'))}`,
        `${setup.name}=${value}x`,
        `${setup.name}=${value.slice(0, -1)}`,
        `${setup.name}=s%3A${flip(sid, 3)}.${encodeURIComponent(sig)}`,
        `${setup.name.toUpperCase()}=${value}`,
        `x${setup.name}=${value}`,
        `${setup.name}=s%3A${encodeURIComponent(signature.sign('someone-elses-guess-000000000000', setup.secret))}`,
      ];
      victims.push({ id, setup, victim, sid, value, marker: `victim-data-${id}`, hostile });
    }
    const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });
    const pair = fc.oneof(
      fc.tuple(fc.oneof(fc.constantFrom('mycookie', 'a.b!', 'cookielab.sid', '__proto__', 'constructor', 'toString', '', ' ', '$Version', 'a b'), latin1), fc.oneof(latin1, fc.constantFrom('s%3A', 's:', '%E0%A4%A', '%', '"', '""', '"s%3Ax.y"', 'a=b', ';', '%00', '%zz', 's%3Ax.'))).map(([n, v]) => `${n}=${v}`),
      latin1,
      fc.integer({ min: 1, max: 8000 }).map((n) => `big=${'b'.repeat(n)}`),
      fc.integer({ min: 2, max: 200 }).map((n) => Array.from({ length: n }, (_, i) => `c${i}=${i}`).join('; ')),
    );
    await check(
      fc.asyncProperty(fc.nat(victims.length - 1), fc.array(fc.oneof(pair, fc.constant('HOSTILE')), { minLength: 1, maxLength: 6 }), fc.nat(100), fc.constantFrom('; ', ';', ',', ' ; ', ''), async (which, parts, pick, glue) => {
        const v = victims[which]!;
        const header = parts.map((p, i) => (p === 'HOSTILE' ? v.hostile[(pick + i) % v.hostile.length]! : p)).join(glue);
        // Never the victim's own valid cookie, in any spelling express-session would accept
        // (it reads the first cookie of that name with cookie.parse, as here).
        fc.pre(parseCookie(header)[v.setup.name] !== decodeURIComponent(v.value));
        const answer = await send(lab.baseUrl, `/sandbox/${v.id}/visit`, { headers: { accept: 'application/json', cookie: header } });
        assertNot500(answer, `visit with Cookie: ${header.slice(0, 200)}`);
        if (answer.status !== 200) {
          assert.ok(answer.status === 431 || answer.status === 400, `unexpected ${answer.status}`);
          return;
        }
        const exchange = answer.json as Exchange;
        assert.notEqual(exchange.sessionId, v.sid, `the header ${header.slice(0, 200)} reached the victim's session`);
        assert.ok(!JSON.stringify(exchange.sessionBefore ?? null).includes(v.marker));
        assert.ok(!JSON.stringify(exchange.sessionAfter ?? null).includes(v.marker), 'someone else\'s data came back');
        for (const setCookie of answer.headers.getSetCookie()) assert.ok(!setCookie.includes(v.sid), 'the victim\'s session id was handed out');
      }),
      400,
    );
    // The victims' sessions are untouched.
    for (const v of victims) {
      const res = await v.victim.request(`/sandbox/${v.id}/visit`);
      const exchange = (await res.json()) as Exchange;
      assert.equal(exchange.sessionId, v.sid);
      assert.equal((exchange.sessionAfter as unknown as Record<string, unknown>).secretOfVictim, v.marker);
    }
    await stillFine();
  });
});


// ------------------------------------------------------------------------------------------------

describe('fuzz: progress imports', () => {
  it('POST /progress/import: a valid export merges (200), anything else is refused with the reason (400) and changes nothing', async () => {
    const lessons = course();
    const learner = new CookieClient(lab.baseUrl);
    const first = await learner.request(`/lessons/${lessons[0]!.slug}`, { headers: { accept: 'text/html' } });
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    assert.ok(learner.jar.has('cookielab.sid'), 'the lesson page started a site session');

    const validLesson = fc.constantFrom(...lessons).chain((lesson) =>
      fc
        .record({
          solved: fc.subarray(lesson.tasks.map((t) => t.id)),
          // A task's hint count goes up to the number of hints it has.
          hints: fc
            .array(fc.constantFrom(...lesson.tasks).chain((task) => fc.integer({ min: 0, max: task.hints.length }).map((n) => [task.id, n] as const)), { maxLength: 3 })
            .map((pairs) => Object.fromEntries(pairs)),
        })
        .map((progress) => [lesson.slug, progress] as const),
    );
    const validExport = fc.array(validLesson, { maxLength: 4 }).map((entries) => ({ format: 'cookie-lab-progress', version: 1, lessons: Object.fromEntries(entries) }));
    type Case = { text: string; expect: 'ok' | 'bad' | 'either' };
    const mutations: ((e: { format: string; version: number; lessons: Record<string, { solved: string[]; hints: Record<string, number> }> }) => string)[] = [
      (e) => JSON.stringify({ ...e, format: 'cookie-lab' }),
      (e) => JSON.stringify({ ...e, version: 2 }),
      (e) => JSON.stringify({ ...e, version: '1' }),
      (e) => JSON.stringify({ ...e, lessons: [] }),
      (e) => JSON.stringify({ ...e, lessons: null }),
      (e) => JSON.stringify({ ...e, lessons: { ...e.lessons, 'no-such-lesson': { solved: [] } } }),
      (e) => JSON.stringify({ ...e, lessons: { ...e.lessons, '<img src=x onerror=alert(7)>': { solved: [] } } }),
      (e) => toJsonText(new JsonObject([['format', e.format], ['version', 1], ['lessons', new JsonObject([['__proto__', new JsonObject([['solved', []]])]])]])),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { solved: ['no-such-task'] } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { solved: [lessons[0]!.tasks[0]!.id, 7] } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { solved: 'all' } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { hints: { [lessons[0]!.tasks[0]!.id]: 21 } } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { hints: { [lessons[0]!.tasks[0]!.id]: 1.5 } } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { hints: { [lessons[0]!.tasks[0]!.id]: -1 } } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { hints: { toString: 1 } } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: { hints: [] } } }),
      (e) => JSON.stringify({ ...e, lessons: { [lessons[0]!.slug]: null } }),
      (e) => JSON.stringify([e]),
      (e) => JSON.stringify(e).slice(0, -1),
    ];
    const cases: fc.Arbitrary<Case> = fc.oneof(
      { weight: 3, arbitrary: validExport.map((e) => ({ text: JSON.stringify(e), expect: 'ok' as const })) },
      { weight: 5, arbitrary: fc.tuple(validExport, fc.constantFrom(...mutations)).map(([e, mutate]) => ({ text: mutate(e), expect: 'bad' as const })) },
      { weight: 2, arbitrary: anyJson.map((v) => ({ text: toJsonText(v), expect: 'either' as const })) },
      { weight: 1, arbitrary: fc.oneof(nastyString, fc.constantFrom('', '   ', '{', 'null', '[]', '"x"')).map((text) => ({ text, expect: 'either' as const })) },
    );
    const exportNow = async () => {
      const res = await learner.request('/progress/export');
      assert.equal(res.status, 200);
      return (await res.json()) as { lessons: Record<string, { solved: string[]; hints: Record<string, number> }> };
    };
    let imported = 0;
    await check(
      fc.asyncProperty(
        cases,
        fc.oneof({ weight: 5, arbitrary: fc.constant('single') }, fc.constantFrom('twice', 'missing', 'other-name')),
        async (c, shape) => {
        const before = await exportNow();
        const form = new URLSearchParams();
        if (shape === 'single' || shape === 'twice') form.append('progress', c.text);
        if (shape === 'twice') form.append('progress', c.text);
        if (shape === 'other-name') form.append('progres', c.text);
        const res = await learner.request('/progress/import', { method: 'POST', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
        const answer: Answer = { status: res.status, headers: res.headers, text: await res.text(), json: undefined };
        assertNot500(answer, 'import');
        assertNoRawMarkup(answer);
        const afterwards = await exportNow();
        const expect = shape === 'single' ? c.expect : 'bad';
        if (answer.status === 200) {
          assert.notEqual(expect, 'bad', `a bad import was accepted: ${c.text.slice(0, 200)}`);
          imported++;
          assert.match(answer.text, /Imported/);
          // Merging never loses anything: whatever was solved stays solved.
          for (const [slug, progress] of Object.entries(before.lessons)) {
            for (const task of progress.solved) assert.ok(afterwards.lessons[slug]?.solved.includes(task), `import lost ${slug}/${task}`);
          }
          if (expect === 'ok') {
            const data = JSON.parse(c.text) as { lessons: Record<string, { solved: string[] }> };
            for (const [slug, progress] of Object.entries(data.lessons)) for (const task of progress.solved) assert.ok(afterwards.lessons[slug]?.solved.includes(task));
          }
          return;
        }
        assert.notEqual(expect, 'ok', `a valid import was refused (${answer.status}): ${c.text.slice(0, 200)}`);
        assert.equal(answer.status, 400);
        const message = assertRejected(answer, 'import');
        assert.match(message, /Nothing imported/);
        assert.deepEqual(afterwards, before, 'a refused import changed the progress');
        },
      ),
      200,
    );
    assert.ok(imported > fuzzRuns(200).numRuns! / 20, `too few imports were valid (${imported}): the generator is off`);
    await stillFine();
  });
});

// ------------------------------------------------------------------------------------------------

describe('option names every JavaScript object already has', () => {
  it(
    'a cookie name like "constructor", "__proto__" or "toString" is refused, or its sandbox answers visits with cookies (never a 500)',
    async () => {
      const failures: string[] = [];
      for (const name of [...OBJECT_PROTOTYPE_NAMES].filter((n) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n))) {
        for (const via of ['POST', 'PUT', 'form'] as const) {
          let id: string;
          if (via === 'POST') {
            const created = await requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { name } });
            if (created.status === 400) continue;
            id = (created.json as { id: string }).id;
          } else {
            id = await createSandbox(lab.baseUrl, {});
            const changed =
              via === 'PUT'
                ? await requestJson(lab.baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', json: { name } })
                : await send(lab.baseUrl, `/sandbox/${id}/options`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: new URLSearchParams({ name, secret: 's', unset: 'keep', store: 'memory', secure: 'false' }).toString() });
            if (changed.status === 400) continue;
          }
          const visited = await send(lab.baseUrl, `/sandbox/${id}/visit`, { headers: { accept: 'application/json', cookie: 'cookielab.sid=s%3Aabc.def' } });
          if (visited.status >= 500) failures.push(`${via} name=${name}: visit answered ${visited.status}`);
        }
      }
      log.lines.length = 0;
      assert.deepEqual(failures, []);
    },
  );
});
