// GET /sandbox/:id/jar: the verdict on the latest Set-Cookie comes from the Cookie header the
// browser sends next, never from the Set-Cookie alone. Here the test plays the browser (it decides
// what to send); e2e/jar.spec.ts checks the same verdicts against Chromium's own jar.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox as createIn } from './support/http.ts';
import { write as writeAs } from './support/sandbox.ts';
import type { JarObservation } from '../server/exchange/jar.ts';
import type { Exchange } from '../server/sandbox/model.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

const createSandbox = (options: unknown) => createIn(lab.baseUrl, options);

/** A write from a browser that sends exactly `cookie` (or no cookie). */
async function write(id: string, cookie: string | null, value = 'ada'): Promise<Exchange> {
  return (await writeAs(new CookieClient(lab.baseUrl), id, 'user', value, cookie ? { headers: { cookie } } : {})).exchange;
}

async function jar(id: string, cookie: string | null, documentCookie?: string): Promise<JarObservation> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (cookie) headers.cookie = cookie;
  if (documentCookie !== undefined) headers['x-document-cookie'] = encodeURIComponent(documentCookie);
  const res = await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return (await res.json()) as JarObservation;
}

const pairOf = (exchange: Exchange) => exchange.setCookie[0]!.split(';')[0]!;

describe('GET /sandbox/:id/jar', () => {
  it('after a rename, the verdict still reads the cookie by the name the latest exchange used', async () => {
    const id = await createSandbox({ name: 'before.sid' });
    const first = await write(id, null);
    const put = await fetch(`${lab.baseUrl}/api/sandboxes/${id}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'after.sid' }) });
    assert.equal(put.status, 200);
    const seen = await jar(id, pairOf(first));
    assert.equal(seen.verdict, 'stored');
    assert.match(seen.words, /sends before\.sid=/);
  });

  it('after Clear my cookie: "deleted" when the browser dropped it, "unchanged" when it still sends one', async () => {
    const id = await createSandbox({ name: 'jar.sid' });
    const first = await write(id, null);
    const cleared = await fetch(`${lab.baseUrl}/sandbox/${id}/clear-cookies`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(cleared.status, 200);
    assert.equal((await jar(id, null)).verdict, 'deleted');
    const kept = await jar(id, pairOf(first));
    assert.equal(kept.verdict, 'unchanged');
    assert.match(kept.words, /still sends 1 cookie\(s\) named jar\.sid/);
    await write(id, null);
    assert.equal((await jar(id, null)).verdict, 'refused', 'a new exchange is judged on its own again');
  });

  it('before any exchange: says so, and shows what the browser sends', async () => {
    const id = await createSandbox({ name: 'jar.sid' });
    const seen = await jar(id, null);
    assert.equal(seen.verdict, 'no-exchange');
    assert.equal(seen.exchangeNumber, null);
    assert.match(seen.words, /No exchange yet: your browser sends no jar\.sid cookie/);
  });

  it('a browser that kept the new cookie: "stored"; the same cookie sent again later: "kept"', async () => {
    const id = await createSandbox({ name: 'jar.sid', cookie: { maxAge: 60_000 } });
    const first = await write(id, null);
    const stored = await jar(id, pairOf(first));
    assert.equal(stored.verdict, 'stored');
    assert.deepEqual(stored.sent, [pairOf(first).split('=')[1]]);
    assert.equal(stored.disagreement, null);
    // maxAge set and the session changed: express-session sends the same cookie with a new Expires.
    const again = await write(id, pairOf(first), 'grace');
    assert.equal(pairOf(again), pairOf(first));
    assert.equal((await jar(id, pairOf(first))).verdict, 'kept');
  });

  it('a browser still sending its old cookie after a new one was set: "refused", and the lab says it did not predict it', async () => {
    const id = await createSandbox({ name: 'jar.sid' });
    const first = await write(id, null);
    const regenerated = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/regenerate`, { method: 'POST', headers: { accept: 'application/json', cookie: pairOf(first) } })).json()) as Exchange;
    assert.notEqual(pairOf(regenerated), pairOf(first));
    const seen = await jar(id, pairOf(first));
    assert.equal(seen.verdict, 'refused');
    assert.match(seen.words, /refused the cookie exchange #2 set: it sends jar\.sid=/);
    assert.match(seen.disagreement ?? '', /did not predict this refusal/);
  });

  it('a replaced cookie: the request carried an old value, and the browser now sends the new one', async () => {
    const id = await createSandbox({ name: 'jar.sid' });
    const first = await write(id, null);
    const regenerated = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/regenerate`, { method: 'POST', headers: { accept: 'application/json', cookie: pairOf(first) } })).json()) as Exchange;
    assert.equal((await jar(id, pairOf(regenerated))).verdict, 'replaced');
  });

  it('a predicted refusal (Domain that does not cover the host) the browser confirms: the reason, and no disagreement', async () => {
    const id = await createSandbox({ name: 'jar.sid', cookie: { domain: 'example.test' } });
    await write(id, null);
    const seen = await jar(id, null);
    assert.equal(seen.verdict, 'refused');
    assert.match(seen.words, /Why: The browser rejects this cookie: 127\.0\.0\.1 is an IP address/);
    assert.equal(seen.disagreement, null);
  });

  it('a predicted refusal the browser did not make: the observation wins, and the page says so', async () => {
    const id = await createSandbox({ name: 'jar.sid', cookie: { domain: 'example.test' } });
    const first = await write(id, null);
    const seen = await jar(id, pairOf(first));
    assert.equal(seen.verdict, 'stored');
    assert.match(seen.disagreement ?? '', /predicted a refusal .* but your browser kept the cookie/);
  });

  it('no Set-Cookie: "unchanged", and two cookies of the same name are counted, the first one named as the one read', async () => {
    const id = await createSandbox({ name: 'jar.sid' });
    const first = await write(id, null);
    const visit = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/visit`, { headers: { accept: 'application/json', cookie: pairOf(first) } })).json()) as Exchange;
    assert.deepEqual(visit.setCookie, []);
    const seen = await jar(id, `jar.sid=other; ${pairOf(first)}`);
    assert.equal(seen.verdict, 'unchanged');
    assert.deepEqual(seen.sent, ['other', pairOf(first).split('=')[1]]);
    assert.match(seen.words, /sends 2 cookies named jar\.sid .*reads only the first, other\./);
  });

  it("what page JavaScript saw is kept as the sandbox's probe, for lesson checks", async () => {
    const id = await createSandbox({ name: 'jar.sid', cookie: { httpOnly: false } });
    const first = await write(id, null);
    const seen = await jar(id, pairOf(first), pairOf(first));
    assert.equal(seen.documentCookie, pairOf(first));
    const sandbox = await lab.registry.find(id);
    assert.equal(sandbox?.probe?.value, pairOf(first));
  });

  it('runs no session middleware: no Set-Cookie, no exchange recorded, whatever cookie comes', async () => {
    const id = await createSandbox({ name: 'jar.sid', saveUninitialized: true, rolling: true });
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', cookie: 'jar.sid=s%3Aforged.sig' } });
    assert.deepEqual(res.headers.getSetCookie(), []);
    const list = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${id}/exchanges`)).json()) as { exchanges: Exchange[] };
    assert.deepEqual(list.exchanges, []);
  });

  it('an over-long X-Document-Cookie is a 400 naming the field; an unknown sandbox is a 404', async () => {
    const id = await createSandbox({});
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', 'x-document-cookie': 'a'.repeat(5000) } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { field: string } }).error.field, 'documentCookie');
    assert.equal((await fetch(`${lab.baseUrl}/sandbox/${'A'.repeat(22)}/jar`, { headers: { accept: 'application/json' } })).status, 404);
  });

  it('a badly encoded X-Document-Cookie is a 400, not a 500', async () => {
    const id = await createSandbox({});
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', 'x-document-cookie': '%E0%A4%A' } });
    assert.equal(res.status, 400);
  });
});

describe('a request with no Host header (HTTP/1.0)', () => {
  it('is answered, never a 500: a visit, the jar and Clear my cookie', async () => {
    const { connect } = await import('node:net');
    const id = await createSandbox({});
    const port = new URL(lab.baseUrl).port;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        // Sent whole, and the socket left open for the answer (as an HTTP/1.0 client does): the
        // server closes it after answering.
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    for (const request of [`GET /sandbox/${id}/visit HTTP/1.0\r\nAccept: application/json\r\n\r\n`, `GET /sandbox/${id}/jar HTTP/1.0\r\nAccept: application/json\r\n\r\n`, `POST /sandbox/${id}/clear-cookies HTTP/1.0\r\nAccept: application/json\r\nContent-Length: 0\r\n\r\n`]) {
      const answer = await raw(request);
      assert.match(answer, /^HTTP\/1\.1 200 /, `${request.split('\r\n')[0]}: ${answer.slice(0, 200)}`);
    }
    const exchanges = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${id}/exchanges`)).json()) as { exchanges: Exchange[] };
    assert.equal(exchanges.exchanges[0]?.host, '');
  });
});

describe("the lab's own session cookie", () => {
  it('is never shown: recorded Cookie headers and the jar hide its value', async () => {
    const id = await createSandbox({});
    const cookie = 'cookielab.sid=s%3Asecret-learner-id.signature; other=1';
    const visit = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/visit`, { headers: { accept: 'application/json', cookie } })).json()) as Exchange;
    assert.equal(visit.requestCookie, "cookielab.sid=(hidden: the lab's own session); other=1");
    const seen = await jar(id, cookie);
    assert.doesNotMatch(JSON.stringify(seen), /secret-learner-id/);
    const listed = await (await fetch(`${lab.baseUrl}/api/sandboxes/${id}/exchanges`)).text();
    assert.doesNotMatch(listed, /secret-learner-id/);
  });
});
