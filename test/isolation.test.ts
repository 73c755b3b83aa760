// Sandboxes are fenced off from each other: their cookies, sessions, exchanges and options.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, getExchanges, getOptions } from './support/http.ts';
import { ops, visit, write } from './support/sandbox.ts';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

/** Writes a secret into sandbox A, then sends A's cookie, exactly as it came, to sandbox B. */
async function carryCookieAcross(optionsA: unknown, optionsB: unknown) {
  const a = await createSandbox(lab.baseUrl, optionsA);
  const b = await createSandbox(lab.baseUrl, optionsB);
  const browser = new CookieClient(lab.baseUrl);
  const inA = await write(browser, a, 'secret', 'only-in-A');
  assert.equal(inA.setCookie.length, 1);
  const inB = await visit(browser, b);
  const writeInB = await write(browser, b, 'note', 'in-B');
  return { a, b, inA, inB, writeInB, browser };
}

describe('a cookie from sandbox A sent to sandbox B', () => {
  it('is scoped by Path to A alone, so a browser would not even send it to B', async () => {
    const a = await createSandbox(lab.baseUrl);
    const b = await createSandbox(lab.baseUrl);
    const fromA = await write(new CookieClient(lab.baseUrl), a, 'k', 'v');
    const fromB = await write(new CookieClient(lab.baseUrl), b, 'k', 'v');
    assert.equal(fromA.exchange.setCookieParsed[0]?.path, `/sandbox/${a}`);
    assert.equal(fromB.exchange.setCookieParsed[0]?.path, `/sandbox/${b}`);
    assert.ok(!`/sandbox/${b}/visit`.startsWith(`/sandbox/${a}`));
  });

  it('with a different secret: its signature does not verify in B, and B never sees A\'s data', async () => {
    const { inA, inB, writeInB } = await carryCookieAcross({ secret: 'secret-of-A' }, { secret: 'secret-of-B' });
    assert.equal(inB.exchange.requestCookieAnatomy?.verdict, 'bad-signature');
    assert.notEqual(inB.exchange.sessionId, inA.exchange.sessionId);
    assert.equal(inB.exchange.sessionBefore, null);
    assert.match(inB.exchange.why, /signature does not verify/);
    assert.equal((writeInB.exchange.sessionAfter as Record<string, unknown> | null)?.secret, undefined);
  });

  for (const store of ['memory', 'database'] as const) {
    it(`with the same name and secret (${store} stores): the signature verifies, but B's store has no such session`, async () => {
      const { inA, inB, writeInB } = await carryCookieAcross({ store }, { store });
      assert.equal(inB.exchange.requestCookieAnatomy?.verdict, 'valid', 'same secret: the signature is fine');
      assert.equal(inB.exchange.requestCookieAnatomy?.sessionId, inA.exchange.sessionId);
      assert.deepEqual(inB.exchange.storeCalls.map((c) => [c.op, c.found]), [['get', false]]);
      assert.notEqual(inB.exchange.sessionId, inA.exchange.sessionId);
      assert.equal(inB.exchange.sessionBefore, null);
      assert.equal(inB.exchange.sessionAfter, null);
      assert.match(inB.exchange.why, /the store has no session/);
      // B's own session, made on the write, holds B's data only.
      assert.deepEqual(Object.keys(writeInB.exchange.sessionAfter ?? {}).sort(), ['cookie', 'note']);
      assert.notEqual(writeInB.exchange.sessionId, inA.exchange.sessionId);
    });
  }

  it('with a sqlite store in A and a memory store in B (same secret): B never sees A\'s session', async () => {
    const { inA, inB } = await carryCookieAcross({ store: 'database' }, { store: 'memory' });
    assert.equal(inB.exchange.storeCalls[0]?.found, false);
    assert.notEqual(inB.exchange.sessionId, inA.exchange.sessionId);
  });

  it('B\'s sessions do not leak back into A either: A still has only its own data', async () => {
    const { a, browser, inA } = await carryCookieAcross({ store: 'database' }, { store: 'database' });
    // The browser's jar now holds B's cookie (same name): give A its own cookie back.
    browser.jar.set('mycookie', inA.setCookie[0]!.split(';')[0]!.slice('mycookie='.length));
    const backInA = await visit(browser, a);
    assert.equal(backInA.exchange.sessionId, inA.exchange.sessionId);
    assert.deepEqual(Object.keys(backInA.exchange.sessionBefore ?? {}).sort(), ['cookie', 'secret']);
    assert.deepEqual(ops(backInA.exchange), ['get', 'touch']);
  });
});

describe('exchanges and options stay with their sandbox', () => {
  it('B\'s exchange numbering starts at 1 however busy A is, and carries B\'s options', async () => {
    const a = await createSandbox(lab.baseUrl, { name: 'a_cookie', rolling: true });
    const b = await createSandbox(lab.baseUrl, { name: 'b_cookie' });
    const browser = new CookieClient(lab.baseUrl);
    for (let i = 0; i < 3; i++) await visit(browser, a);
    const inB = await visit(new CookieClient(lab.baseUrl), b);
    assert.equal(inB.exchange.number, 1);
    assert.equal(inB.exchange.options.name, 'b_cookie');
    assert.equal(inB.exchange.options.rolling, false);
  });

  it('A\'s exchanges never appear in B\'s list', async () => {
    const a = await createSandbox(lab.baseUrl);
    const b = await createSandbox(lab.baseUrl);
    const inA = await write(new CookieClient(lab.baseUrl), a, 'k', 'v');
    const inB = await visit(new CookieClient(lab.baseUrl), b);
    const listA = await getExchanges(lab.baseUrl, a);
    const listB = await getExchanges(lab.baseUrl, b);
    assert.deepEqual(listA.json.exchanges, [inA.exchange]);
    assert.deepEqual(listB.json.exchanges, [inB.exchange]);
  });

  it('A\'s options never appear in B', async () => {
    const a = await createSandbox(lab.baseUrl, { name: 'only_a', store: 'database' });
    const b = await createSandbox(lab.baseUrl);
    const optionsB = await getOptions(lab.baseUrl, b);
    assert.equal(optionsB.status, 200);
    assert.equal(optionsB.json.name, 'mycookie');
    assert.equal(optionsB.json.store, 'memory');
    assert.equal((await getOptions(lab.baseUrl, a)).json.name, 'only_a');
  });
});

describe('sandbox ids', () => {
  it('are 22 base64url characters (128 random bits) and all differ', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, () => createSandbox(lab.baseUrl)));
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('are case-sensitive: the same id in other case is not the sandbox', async () => {
    const id = await createSandbox(lab.baseUrl);
    const swapped = [...id].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
    if (swapped === id) return; // all digits and symbols: nothing to swap (vanishingly unlikely)
    const res = await fetch(`${lab.baseUrl}/sandbox/${swapped}/visit`, { headers: { accept: 'application/json' } });
    await res.arrayBuffer();
    assert.equal(res.status, 404);
  });
});

describe('sandboxes evicted from the live set', () => {
  // Only two live middlewares at once: a third sandbox evicts the least recently used.
  let small: Lab;
  before(async () => {
    small = await startLab({ registryLimits: { liveSandboxes: 2, exchangesPerSandbox: 20 } });
  });
  after(() => small.stop());

  it('an evicted sandbox keeps its sessions, memory or sqlite (only a restart drops a MemoryStore)', async () => {
    const memory = await createSandbox(small.baseUrl, { store: 'memory' });
    const sqlite = await createSandbox(small.baseUrl, { store: 'database' });
    const memoryBrowser = new CookieClient(small.baseUrl);
    const sqliteBrowser = new CookieClient(small.baseUrl);
    await write(memoryBrowser, memory, 'k', 'v');
    await write(sqliteBrowser, sqlite, 'k', 'v');
    await createSandbox(small.baseUrl);
    await createSandbox(small.baseUrl); // both earlier sandboxes are evicted now
    const health = await fetch(`${small.baseUrl}/healthz`).then((r) => r.json() as Promise<{ liveSandboxes: number }>);
    assert.equal(health.liveSandboxes, 2);
    const fromMemory = await visit(memoryBrowser, memory);
    assert.equal(fromMemory.exchange.storeCalls[0]?.found, true, 'eviction dropped only the idle middleware');
    assert.equal((fromMemory.exchange.sessionBefore as Record<string, unknown> | null)?.k, 'v');
    assert.equal(fromMemory.exchange.number, 2, 'the exchange history is kept in the database, not with the middleware');
    const fromSqlite = await visit(sqliteBrowser, sqlite);
    assert.equal(fromSqlite.exchange.storeCalls[0]?.found, true);
    assert.equal((fromSqlite.exchange.sessionBefore as Record<string, unknown> | null)?.k, 'v');
  });

  it('parallel first requests to an evicted memory sandbox share one middleware, so no session is lost', async () => {
    const id = await createSandbox(small.baseUrl, { store: 'memory' });
    await createSandbox(small.baseUrl);
    await createSandbox(small.baseUrl); // evicts `id`
    const browsers = Array.from({ length: 4 }, () => new CookieClient(small.baseUrl));
    const writes = await Promise.all(browsers.map((browser, i) => write(browser, id, 'who', `browser-${i}`)));
    const numbers = writes.map((w) => w.exchange.number).sort((x, y) => x - y);
    assert.deepEqual(numbers, [1, 2, 3, 4], 'one sandbox object recorded all four');
    for (const [i, browser] of browsers.entries()) {
      const back = await visit(browser, id);
      assert.equal((back.exchange.sessionBefore as Record<string, unknown> | null)?.who, `browser-${i}`);
    }
  });
});
