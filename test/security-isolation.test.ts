// Isolation and abuse: one sandbox's cookies, sessions, exchanges and options are out of reach of
// another; ids are 128 random bits; guessing ids, hammering one sandbox and oversized bodies are
// limited, without blocking a class that shares one address.
// Long because each way into another learner's sandbox is its own case, kept side by side.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { course, watchConsoleErrors } from './support/watch.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, send, requestJson, sendForm, rawGet, createSandbox, readOptions, readExchanges, snapshot, assertRejected } from './support/http.ts';

const generous = { sandboxesPerMinute: 5000, sandboxRequestsPerMinute: 5000, unknownIdsPerMinute: 5000 };

/** One lab with room for everything, one with low limits (5 unknown ids, 5 requests per sandbox, 60 new sandboxes a minute). */
let lab: Lab;
let strict: Lab;
before(async () => {
  [lab, strict] = await Promise.all([startLab({ limits: generous }), startLab({ limits: { unknownIdsPerMinute: 5, sandboxRequestsPerMinute: 5, sandboxesPerMinute: 60 } })]);
});
after(async () => {
  await Promise.all([lab.stop(), strict.stop()]);
});

describe('sandboxes are fenced off from each other', () => {

  for (const [storeA, storeB] of [['memory', 'memory'], ['database', 'database'], ['memory', 'database']] as const) {
    it(`A's cookie, session, exchanges and options are unreachable from B (${storeA} / ${storeB})`, async () => {
      const a = await createSandbox(lab.baseUrl, { store: storeA });
      const b = await createSandbox(lab.baseUrl, { store: storeB });
      const learner = new CookieClient(lab.baseUrl);
      const inA = await learner.request(`/sandbox/${a}/write`, { method: 'POST', json: { key: 'secret', value: 'only-in-A' } });
      const sidA = ((await inA.json()) as Exchange).sessionId!;
      const cookieA = learner.jar.get('mycookie')!;
      // The cookie is fenced by its Path, and the id is part of the path.
      assert.match(inA.headers.getSetCookie()[0]!, new RegExp(`Path=/sandbox/${a}(;|$)`));
      const bBefore = await snapshot(lab.baseUrl, b);

      // Even sent to B by hand (same name, same secret), A's cookie finds nothing in B's store.
      const inB = (await (await learner.request(`/sandbox/${b}/visit`)).json()) as Exchange;
      assert.notEqual(inB.sessionId, sidA);
      assert.equal(inB.sessionBefore, null);
      assert.ok(!JSON.stringify(inB).includes('only-in-A'), 'B showed A\'s data');
      const writeB = (await (await learner.request(`/sandbox/${b}/write`, { method: 'POST', json: { key: 'note', value: 'in-B' } })).json()) as Exchange;
      assert.notEqual(writeB.sessionId, sidA);
      assert.equal((writeB.sessionAfter as unknown as Record<string, unknown>).secret, undefined);

      // B's exchanges only ever hold B's requests; A's only A's.
      for (const e of await readExchanges(lab.baseUrl, b)) assert.ok(e.path.startsWith(`/sandbox/${b}/`), e.path);
      for (const e of await readExchanges(lab.baseUrl, a)) assert.ok(e.path.startsWith(`/sandbox/${a}/`), e.path);
      assert.ok(!JSON.stringify(await readExchanges(lab.baseUrl, b)).includes('only-in-A'));

      // Changing A's options leaves B's alone, and A's session in A is intact.
      assert.equal((await requestJson(lab.baseUrl, `/api/sandboxes/${a}/options`, { method: 'PUT', json: { rolling: true, name: 'renamed' } })).status, 200);
      assert.deepEqual(await readOptions(lab.baseUrl, b), bBefore.options);
      const stillA = (await (await learner.request(`/sandbox/${a}/visit`, { headers: { cookie: `renamed=${cookieA}` } })).json()) as Exchange;
      assert.equal((stillA.sessionAfter as unknown as Record<string, unknown>).secret, 'only-in-A');
    });
  }

  it('path tricks (dot segments, encoded slashes and ids, other case, trailing junk) never reach another sandbox', async () => {
    const a = await createSandbox(lab.baseUrl);
    const b = await createSandbox(lab.baseUrl);
    const learner = new CookieClient(lab.baseUrl);
    await (await learner.request(`/sandbox/${a}/write`, { method: 'POST', json: { key: 'secret', value: 'only-in-A' } })).text();
    const cookie = learner.cookieHeader()!;
    const encodedA = [...a].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('');
    for (const path of [
      `/sandbox/${b}/../${a}/visit`,
      `/sandbox/${b}/..%2F${a}/visit`,
      `/sandbox/${b}%2F..%2F${a}/visit`,
      `/sandbox/${a}%2F..%2F${b}/visit`,
      `/sandbox/${encodedA}/visit`,
      `/sandbox/${a.toLowerCase()}/visit`,
      `/sandbox/${a.toUpperCase()}/visit`,
      `/sandbox/${a}x/visit`,
      `/sandbox/${a.slice(0, -1)}/visit`,
      `/sandbox/${b}/visit/../../${a}/visit`,
      `/sandbox//${a}/visit`,
      `/api/sandboxes/${b}/../${a}/exchanges`,
      `/api/sandboxes/${encodedA}/exchanges`,
      `/api/sandboxes/${a};/exchanges`,
    ]) {
      const res = await rawGet(lab.baseUrl, path, { cookie });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
      if (res.status === 200) {
        // Only acceptable when the path names B alone and B answered, with nothing of A's.
        assert.ok(!res.body.includes('only-in-A'), `${path} reached A's session`);
      } else {
        assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
      }
    }
  });
});

describe('sandbox ids', () => {

  it('are 22 base64url characters (exactly 128 random bits) and unique over 1,000 creations', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      ids.push(...(await Promise.all(Array.from({ length: 20 }, () => createSandbox(lab.baseUrl)))));
    }
    assert.equal(ids.length, 1000);
    assert.equal(new Set(ids).size, 1000, 'an id was handed out twice');
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{21}[AQgw]$/, '16 bytes in base64url: the last character carries 2 bits');
    // Random, not a counter or a clock: every one of the first 21 positions takes many values.
    for (let position = 0; position < 21; position++) {
      const seen = new Set(ids.map((id) => id[position]));
      assert.ok(seen.size >= 50, `position ${position} took only ${seen.size} values`);
    }
    // Nothing in common with creation order.
    const sorted = [...ids].sort();
    assert.notDeepEqual(sorted, ids);
  });
});

describe('guessing ids is rate-limited per address', () => {

  it('after 5 unknown ids: 429 with Retry-After, while the same address keeps using its own sandbox', async () => {
    const own = await createSandbox(strict.baseUrl);
    const learner = new CookieClient(strict.baseUrl);
    assert.equal((await learner.request(`/sandbox/${own}/write`, { method: 'POST', json: { key: 'k', value: 'v' } })).status, 200);
    // One of them differs from the learner's own id in its last character only.
    const neighbour = `${own.slice(0, -1)}${own.endsWith('A') ? 'Q' : 'A'}`;
    const guesses = ['AAAAAAAAAAAAAAAAAAAAAA', 'short', 'BBBBBBBBBBBBBBBBBBBBBB', neighbour, 'CCCCCCCCCCCCCCCCCCCCCC'];
    for (const guess of guesses) {
      const res = await send(strict.baseUrl, `/sandbox/${guess}/visit`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 404, `guess ${guess}`);
    }
    for (const path of ['/sandbox/DDDDDDDDDDDDDDDDDDDDDD/visit', '/api/sandboxes/EEEEEEEEEEEEEEEEEEEEEE/exchanges', '/sandbox/FFFFFFFFFFFFFFFFFFFFFF']) {
      const res = await send(strict.baseUrl, path, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 429, path);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${res.headers.get('retry-after')}`);
      assert.match(assertRejected(res, 'guessing'), /too many unknown sandbox ids/);
    }
    // A browser gets a page saying so.
    const page = await send(strict.baseUrl, '/sandbox/GGGGGGGGGGGGGGGGGGGGGG', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 429);
    assert.match(assertRejected(page, 'guessing page'), /too many unknown sandbox ids/);
    // The learner's own sandbox is unaffected, every route of it.
    const visit = await learner.request(`/sandbox/${own}/visit`);
    assert.equal(visit.status, 200);
    assert.equal((((await visit.json()) as Exchange).sessionAfter as unknown as Record<string, unknown>).k, 'v');
    assert.equal((await learner.request(`/sandbox/${own}/write`, { method: 'POST', json: { key: 'k2', value: 'v2' } })).status, 200);
    assert.equal((await send(strict.baseUrl, `/sandbox/${own}`, { headers: { accept: 'text/html' } })).status, 200);
    assert.equal((await send(strict.baseUrl, `/api/sandboxes/${own}/options`)).status, 200);
    assert.equal((await requestJson(strict.baseUrl, `/api/sandboxes/${own}/options`, { method: 'PUT', json: { rolling: true } })).status, 200);
    // New sandboxes and lessons are still open to this address.
    const fresh = await createSandbox(strict.baseUrl);
    assert.equal((await send(strict.baseUrl, `/sandbox/${fresh}/visit`, { headers: { accept: 'application/json' } })).status, 200);
    assert.equal((await send(strict.baseUrl, `/lessons/${course()[0]!.slug}`, { headers: { accept: 'text/html' } })).status, 200);
  });
});

describe('behind a proxy (TRUST_PROXY=1)', () => {
  it(
    'a client cannot dodge the per-address limits by sending its own X-Forwarded-For',
    async () => {
      const log = watchConsoleErrors({ quiet: true }); // express-rate-limit's ERR_ERL_PERMISSIVE_TRUST_PROXY
      const proxied = await startLab({ config: { trustProxy: 1 }, limits: { ...generous, unknownIdsPerMinute: 3, sandboxesPerMinute: 3 } });
      /** The learner's real address, as the proxy saw it. */
      const CLIENT = '192.0.2.77';
      try {
        const guessed: number[] = [];
        for (let i = 0; i < 8; i++) {
          // The client writes its own X-Forwarded-For; the one proxy in front appends the address it saw.
          const res = await send(proxied.baseUrl, `/sandbox/AAAAAAAAAAAAAAAAAAAAA${'ABCDEFGH'[i]}/visit`, { headers: { accept: 'application/json', 'x-forwarded-for': `203.0.113.${i + 1}, ${CLIENT}` } });
          guessed.push(res.status);
        }
        const created: number[] = [];
        for (let i = 0; i < 6; i++) {
          const res = await send(proxied.baseUrl, '/api/sandboxes', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': `198.51.100.${i + 1}, ${CLIENT}` }, body: '{}' });
          created.push(res.status);
        }
        assert.ok(guessed.includes(429), `8 guesses from one client, each with its own X-Forwarded-For: ${guessed.join(' ')}`);
        assert.ok(created.includes(429), `6 creations from one client, each with its own X-Forwarded-For: ${created.join(' ')}`);
      } finally {
        log.restore();
        await proxied.stop();
      }
    },
  );
});

describe('requests to one sandbox are rate-limited per sandbox, not per address', () => {

  it('the 6th request to a sandbox in a minute gets 429 with Retry-After; that sandbox only', async () => {
    const busy = await createSandbox(strict.baseUrl);
    const learner = new CookieClient(strict.baseUrl);
    for (let i = 0; i < 5; i++) assert.equal((await learner.request(`/sandbox/${busy}/write`, { method: 'POST', json: { key: `k${i}`, value: i } })).status, 200);
    const before = await snapshot(strict.baseUrl, busy);
    for (const [method, path] of [['GET', 'visit'], ['POST', 'write'], ['GET', 'slow?ms=0'], ['POST', 'regenerate'], ['POST', 'destroy']] as const) {
      const res = await send(strict.baseUrl, `/sandbox/${busy}/${path}`, { method, headers: { accept: 'application/json', 'content-type': 'application/json', cookie: learner.cookieHeader()! }, body: method === 'POST' ? '{"key":"x","value":"y"}' : undefined });
      assert.equal(res.status, 429, path);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${res.headers.get('retry-after')}`);
      assert.match(assertRejected(res, 'busy sandbox'), /too many requests/);
    }
    assert.equal((await requestJson(strict.baseUrl, `/api/sandboxes/${busy}/options`, { method: 'PUT', json: { rolling: true } })).status, 429);
    assert.deepEqual(await snapshot(strict.baseUrl, busy), before, 'a limited request changed the sandbox');
    // Its page and its read-only API still answer, so the learner can see what happened.
    assert.equal((await send(strict.baseUrl, `/sandbox/${busy}`, { headers: { accept: 'text/html' } })).status, 200);

    // A class of 30 behind the same address, each in their own sandbox, is not blocked.
    const classroom = await Promise.all(Array.from({ length: 30 }, () => createSandbox(strict.baseUrl)));
    const results = await Promise.all(
      classroom.map(async (id) => {
        const pupil = new CookieClient(strict.baseUrl);
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await pupil.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'n', value: i } })).status);
        return statuses;
      }),
    );
    for (const statuses of results) assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
  });
});

describe('creating sandboxes is rate-limited per address', () => {
  it('past the limit: 429 with Retry-After for new sandboxes and new learners; existing sandboxes and returning learners carry on', async () => {
    const lesson = course()[0]!;
    const returning = new CookieClient(strict.baseUrl);
    assert.equal((await returning.request(`/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } })).status, 200);
    const mine = await createSandbox(strict.baseUrl);
    let refused: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 70 && !refused; i++) {
      const res = await requestJson(strict.baseUrl, '/api/sandboxes', { method: 'POST', json: {} });
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 201);
    }
    assert.ok(refused, 'no limit on creating sandboxes');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${refused.headers.get('retry-after')}`);
    assert.match(assertRejected(refused, 'creation'), /too many new sandboxes/);
    assert.equal((await send(strict.baseUrl, '/lab', { headers: { accept: 'text/html' } })).status, 429);
    const newcomer = await send(strict.baseUrl, `/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } });
    assert.equal(newcomer.status, 429, 'a first lesson visit creates a sandbox, so it is limited too');
    assert.match(assertRejected(newcomer, 'new learner'), /too many new sandboxes/);
    assert.equal((await returning.request(`/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } })).status, 200, 'a returning learner is not limited');
    assert.equal((await send(strict.baseUrl, `/sandbox/${mine}/visit`, { headers: { accept: 'application/json' } })).status, 200);
  });
});

describe('request bodies are limited in size', () => {

  it('answers 413 with a message for JSON and form bodies over 10 kB, and for more than 50 form fields; nothing changes', async () => {
    const id = await createSandbox(lab.baseUrl);
    const before = await snapshot(lab.baseUrl, id);
    const big = 'x'.repeat(11 * 1024);
    const cases: [string, () => Promise<Awaited<ReturnType<typeof send>>>][] = [
      ['POST /api/sandboxes', () => requestJson(lab.baseUrl, '/api/sandboxes', { method: 'POST', json: { name: 'x', padding: big } })],
      ['PUT options', () => requestJson(lab.baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', json: { name: 'y', padding: big } })],
      ['write (JSON)', () => requestJson(lab.baseUrl, `/sandbox/${id}/write`, { method: 'POST', json: { key: 'k', value: big } })],
      ['write (form)', () => sendForm(lab.baseUrl, `/sandbox/${id}/write`, new URLSearchParams({ key: 'k', value: big }), { accept: 'application/json' })],
      ['options form', () => sendForm(lab.baseUrl, `/sandbox/${id}/options`, new URLSearchParams({ name: 'z', secret: big }))],
      ['options form, 60 fields', () => sendForm(lab.baseUrl, `/sandbox/${id}/options`, new URLSearchParams(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'v'])))],
      ['probe', () => sendForm(lab.baseUrl, `/sandbox/${id}/probe`, new URLSearchParams({ documentCookie: big }), { accept: 'application/json' })],
      ['progress import', () => sendForm(lab.baseUrl, '/progress/import', new URLSearchParams({ progress: big }))],
    ];
    for (const [label, run] of cases) {
      const res = await run();
      assert.equal(res.status, 413, `${label}: ${res.status}`);
      assert.match(assertRejected(res, label), /too large|too many/, label);
    }
    assert.deepEqual(await snapshot(lab.baseUrl, id), before);
  });
});

describe('what one hostile learner can do to others', () => {
  it(
    'creating many sandboxes does not wipe another learner\'s MemoryStore sessions',
    async () => {
      const small = await startLab({ limits: generous, registryLimits: { liveSandboxes: 5 } });
      try {
        const victim = await createSandbox(small.baseUrl);
        const learner = new CookieClient(small.baseUrl);
        await (await learner.request(`/sandbox/${victim}/write`, { method: 'POST', json: { key: 'work', value: 'an hour of it' } })).text();
        for (let i = 0; i < 5; i++) await createSandbox(small.baseUrl);
        const visit = (await (await learner.request(`/sandbox/${victim}/visit`)).json()) as Exchange;
        assert.equal((visit.sessionAfter as unknown as Record<string, unknown> | null)?.work, 'an hour of it');
      } finally {
        await small.stop();
      }
    },
  );

  it(
    'one session cannot grow without bound (every exchange keeps a copy of it)',
    async () => {
      {
        const id = await createSandbox(lab.baseUrl);
        const learner = new CookieClient(lab.baseUrl);
        let refused = false;
        for (let i = 0; i < 80 && !refused; i++) {
          const res = await learner.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: `k${i}`, value: 'x'.repeat(2000) } });
          await res.arrayBuffer();
          refused = res.status === 400 || res.status === 413;
        }
        assert.ok(refused, 'a session of 80 values of 2000 characters (160 kB) was accepted');
      }
    },
  );
});
