// Hostile Cookie headers against sandboxes and the site itself: malformed, duplicated, oversized,
// percent-broken, unsigned, tampered, signed with a secret that was removed. Each one gets a new
// session (or a 4xx from Node for an over-limit header), never a 500, and never another learner's
// session or data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import signature from 'cookie-signature';
import { course, watchConsoleErrors, type ErrorLog } from './support/watch.ts';
import type { Exchange } from '../server/sandbox/model.ts';
import { startLab, testConfig, type Lab } from './support/lab.ts';
import { CookieClient, send, requestJson, createSandbox, healthy, assertNoLeak, type Answer } from './support/http.ts';

let lab: Lab;
let log: ErrorLog;
before(async () => {
  lab = await startLab();
  log = watchConsoleErrors({ quiet: true });
});
after(async () => {
  log.restore();
  await lab.stop();
});

interface Victim {
  id: string;
  name: string;
  client: CookieClient;
  sid: string;
  /** The cookie value exactly as the browser holds it (URL-encoded). */
  value: string;
  signatureOf: string;
  marker: string;
}

/** A learner who wrote something private into a sandbox. */
async function victimIn(options: Record<string, unknown> = {}, name = 'mycookie'): Promise<Victim> {
  const id = await createSandbox(lab.baseUrl, options);
  const client = new CookieClient(lab.baseUrl);
  const marker = `private-${id}`;
  const res = await client.request(`/sandbox/${id}/write`, { method: 'POST', json: { key: 'diary', value: marker } });
  assert.equal(res.status, 200);
  const exchange = (await res.json()) as Exchange;
  const value = client.jar.get(name);
  assert.ok(value, 'the victim got a cookie');
  return { id, name, client, sid: exchange.sessionId!, value, signatureOf: decodeURIComponent(value).slice(decodeURIComponent(value).lastIndexOf('.') + 1), marker };
}

/**
 * Sends a hand-made Cookie header to the sandbox's visit; never a 500, never the victim's session.
 * Only `ownSid` (the sender's own session, when its valid cookie is in the header) may be loaded.
 */
async function hostileVisit(victim: Victim, header: string, ownSid?: string): Promise<{ answer: Answer; exchange: Exchange | null }> {
  const answer = await send(lab.baseUrl, `/sandbox/${victim.id}/visit`, { headers: { accept: 'application/json', cookie: header } });
  assert.ok(answer.status < 500, `Cookie: ${header.slice(0, 120)} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  assertNoLeak(answer);
  if (answer.status !== 200) {
    assert.ok(answer.status >= 400, `unexpected ${answer.status}`);
    return { answer, exchange: null };
  }
  const exchange = answer.json as Exchange;
  assert.notEqual(exchange.sessionId, victim.sid, `Cookie: ${header.slice(0, 120)} reached the victim's session`);
  if (ownSid === undefined || exchange.sessionId !== ownSid) assert.equal(exchange.sessionBefore, null, 'nothing was loaded for this header');
  assert.ok(!JSON.stringify(exchange.sessionAfter).includes(victim.marker), 'another learner\'s data came back');
  for (const setCookie of answer.headers.getSetCookie()) assert.ok(!setCookie.includes(victim.sid));
  return { answer, exchange };
}

/** The victim still has exactly their session. */
async function victimUnharmed(victim: Victim): Promise<void> {
  const res = await victim.client.request(`/sandbox/${victim.id}/visit`);
  assert.equal(res.status, 200);
  const exchange = (await res.json()) as Exchange;
  assert.equal(exchange.sessionId, victim.sid);
  assert.equal((exchange.sessionAfter as unknown as Record<string, unknown>).diary, victim.marker);
}

const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

for (const store of ['memory', 'database'] as const) {
  describe(`hostile Cookie headers to a sandbox (${store} store)`, () => {
    let victim: Victim;
    before(async () => {
      victim = await victimIn({ store });
    });
    after(async () => {
      await victimUnharmed(victim);
      await healthy(lab.baseUrl);
      assert.deepEqual(log.serverFailures(), []);
    });

    it('malformed headers start a new session', async () => {
      for (const header of [
        'mycookie',
        '=',
        ';;;',
        '=;=;=',
        'mycookie=',
        'mycookie==',
        'mycookie=;',
        '"mycookie"=x',
        `mycookie="s%3A${victim.sid}`,
        'mycookie=s%3A',
        'mycookie=s:.',
        'mycookie=s%3A%3A%3A',
        'mycookie=s%3A.',
        'mycookie=\t',
        'mycookie=\u00e9\u00ff\u00a0',
        `mycookie ; = ; ${victim.name}`,
        'mycookie=a=b=c',
        '$Version=1; mycookie=x; $Path=/',
        'mycookie=<script>alert(1)</script>',
      ]) {
        const { exchange } = await hostileVisit(victim, header);
        assert.ok(exchange, `Cookie: ${header} should get a new session, not an error`);
      }
    });

    it('unsigned: the bare session id, or "s:" with no signature, is ignored', async () => {
      for (const header of [`mycookie=${victim.sid}`, `mycookie=s%3A${victim.sid}`, `mycookie=s:${victim.sid}`, `mycookie=s%3A${victim.sid}.`]) {
        const { exchange } = await hostileVisit(victim, header);
        assert.ok(exchange);
        assert.ok(exchange.requestCookieAnatomy, 'the inspector takes the cookie apart');
        assert.notEqual(exchange.requestCookieAnatomy.verdict, 'valid');
      }
    });

    it('tampered: one character of the signature or of the session id changed', async () => {
      const sig = victim.signatureOf;
      for (const header of [
        `mycookie=s%3A${victim.sid}.${encodeURIComponent(flip(sig, 0))}`,
        `mycookie=s%3A${victim.sid}.${encodeURIComponent(flip(sig, sig.length - 1))}`,
        `mycookie=s%3A${flip(victim.sid, 0)}.${encodeURIComponent(sig)}`,
        `mycookie=s%3A${flip(victim.sid, victim.sid.length - 1)}.${encodeURIComponent(sig)}`,
        `mycookie=${victim.value}x`,
        `mycookie=${victim.value.slice(0, -1)}`,
        `mycookie=s%3A${victim.sid}.${encodeURIComponent(sig)}.${encodeURIComponent(sig)}`,
      ]) {
        const { exchange } = await hostileVisit(victim, header);
        assert.equal(exchange?.requestCookieAnatomy?.verdict, 'bad-signature', header);
      }
    });

    it('percent-broken values (%E0%A4%A and friends) are read as they are, not a 500', async () => {
      for (const header of ['mycookie=%E0%A4%A', 'mycookie=%', 'mycookie=%zz', 'mycookie=%%%', `mycookie=s%3A${victim.sid}%E0%A4%A.${victim.signatureOf}`, 'mycookie=%FF%FE', 'mycookie=%00', `mycookie=s%3A${victim.sid}.%E0%A4%A`, 'other=%E0%A4%A; mycookie=%C0']) {
        const { exchange } = await hostileVisit(victim, header);
        assert.ok(exchange, header);
      }
    });

    it('duplicated names: only the first counts, as in express-session, and a forged second one changes nothing', async () => {
      const attacker = new CookieClient(lab.baseUrl);
      const own = await attacker.request(`/sandbox/${victim.id}/write`, { method: 'POST', json: { key: 'mine', value: 'attacker' } });
      const ownSid = ((await own.json()) as Exchange).sessionId!;
      const ownValue = attacker.jar.get('mycookie')!;
      const tampered = `s%3A${victim.sid}.${encodeURIComponent(flip(victim.signatureOf, 2))}`;

      const first = await hostileVisit(victim, `mycookie=${ownValue}; mycookie=${tampered}`, ownSid);
      assert.equal(first.exchange?.sessionId, ownSid, 'the first, valid cookie is the one read');
      assert.equal((first.exchange?.sessionAfter as unknown as Record<string, unknown>).mine, 'attacker');

      const second = await hostileVisit(victim, `mycookie=${tampered}; mycookie=${ownValue}`, ownSid);
      assert.notEqual(second.exchange?.sessionId, ownSid, 'a bad first cookie is not skipped for a later one');
      assert.equal(second.exchange?.requestCookieAnatomy?.verdict, 'bad-signature', 'the inspector reads the same (first) cookie');

      await hostileVisit(victim, `mycookie=${tampered}; mycookie=${tampered}; mycookie=${victim.sid}`);
    });

    it('oversized: an 8 KB cookie and a 15 KB header are answered; past Node\'s 16 KB limit it is a 431, and the app stays up', async () => {
      const big = await hostileVisit(victim, `mycookie=${'a'.repeat(8 * 1024)}`);
      assert.equal(big.answer.status, 200);
      const many = await hostileVisit(victim, Array.from({ length: 1500 }, (_, i) => `c${i}=${i}`).join('; '));
      assert.equal(many.answer.status, 200);
      const huge = await hostileVisit(victim, `mycookie=${'a'.repeat(15 * 1024)}`);
      assert.equal(huge.answer.status, 200);
      const over = await send(lab.baseUrl, `/sandbox/${victim.id}/visit`, { headers: { accept: 'application/json', cookie: `mycookie=${'a'.repeat(17 * 1024)}` } });
      assert.equal(over.status, 431);
      await healthy(lab.baseUrl);
    });

    it('forged with the sandbox\'s own (public) secret for a made-up id: the signature verifies, but the store has no such session', async () => {
      for (let i = 0; i < 5; i++) {
        const forged = encodeURIComponent(`s:${signature.sign(`made-up-${i}-${'x'.repeat(20)}`, 'cookiesaregood')}`);
        const { exchange } = await hostileVisit(victim, `mycookie=${forged}`);
        assert.equal(exchange?.requestCookieAnatomy?.verdict, 'valid');
        assert.deepEqual(exchange?.storeCalls.map((c) => [c.op, c.found]), [['get', false]]);
      }
    });
  });
}

describe('a cookie signed with a secret that has since been removed', () => {
  for (const store of ['memory', 'database'] as const) {
    it(`(${store} store) keeps working while the old secret is still listed, and starts a new session once it is removed`, async () => {
      const victim = await victimIn({ store, secret: ['old-secret'] });
      // Rotation: a new secret signs, the old one still verifies.
      let res = await requestJson(lab.baseUrl, `/api/sandboxes/${victim.id}/options`, { method: 'PUT', json: { secret: ['new-secret', 'old-secret'] } });
      assert.equal(res.status, 200);
      const during = await victim.client.request(`/sandbox/${victim.id}/visit`);
      const duringExchange = (await during.json()) as Exchange;
      assert.equal(duringExchange.sessionId, victim.sid);
      assert.equal(duringExchange.requestCookieAnatomy?.verifiedBy, 1, 'verified by the old secret, second in the list');

      res = await requestJson(lab.baseUrl, `/api/sandboxes/${victim.id}/options`, { method: 'PUT', json: { secret: ['new-secret'] } });
      assert.equal(res.status, 200);
      // The victim's own browser, and anyone replaying its cookie, now get a fresh session.
      const { exchange } = await hostileVisit(victim, `mycookie=${victim.value}`);
      assert.equal(exchange?.requestCookieAnatomy?.verdict, 'bad-signature');
      // And a cookie someone signs for the victim's id with the removed secret is worth nothing.
      await hostileVisit(victim, `mycookie=${encodeURIComponent(`s:${signature.sign(victim.sid, 'old-secret')}`)}`);
      // The data is still in the store, under an id nobody can present any more.
      const stored = (await lab.registry.find(victim.id))!.store;
      assert.equal(((await stored.peek(victim.sid)) as unknown as Record<string, unknown> | null)?.diary, victim.marker);
    });
  }
});

describe('the site\'s own session cookie (cookielab.sid)', () => {
  const siteSecret = testConfig('').siteSessionSecret;

  it('tampered, unsigned, broken or forged site cookies give a new learner, never another learner\'s progress', async () => {
    const lesson = course()[0]!;
    const victim = new CookieClient(lab.baseUrl);
    await (await victim.request(`/lessons/${lesson.slug}`, { headers: { accept: 'text/html' } })).arrayBuffer();
    const imported = await victim.request('/progress/import', {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ progress: JSON.stringify({ format: 'cookie-lab-progress', version: 1, lessons: { [lesson.slug]: { solved: [lesson.tasks[0]!.id], hints: {} } } }) }).toString(),
    });
    assert.equal(imported.status, 200);
    await imported.arrayBuffer();
    const value = victim.jar.get('cookielab.sid')!;
    const decoded = decodeURIComponent(value);
    const sid = decoded.slice(2, decoded.lastIndexOf('.'));
    const sig = decoded.slice(decoded.lastIndexOf('.') + 1);
    const exportWith = async (cookie: string) => {
      const answer = await send(lab.baseUrl, '/progress/export', { headers: { accept: 'application/json', cookie } });
      assert.equal(answer.status, 200, `Cookie: ${cookie.slice(0, 100)} answered ${answer.status}`);
      return answer.json as { lessons: Record<string, unknown> };
    };
    assert.ok((await exportWith(`cookielab.sid=${value}`)).lessons[lesson.slug], 'the victim\'s own cookie shows their progress');
    for (const cookie of [
      `cookielab.sid=${sid}`,
      `cookielab.sid=s%3A${sid}`,
      `cookielab.sid=s%3A${sid}.${encodeURIComponent(flip(sig, 0))}`,
      `cookielab.sid=s%3A${flip(sid, 1)}.${encodeURIComponent(sig)}`,
      `cookielab.sid=${value}x`,
      `cookielab.sid=%E0%A4%A`,
      `cookielab.sid=${encodeURIComponent(`s:${signature.sign(sid, 'some-other-secret-of-32-characters!!')}`)}`,
      `cookielab.sid=${encodeURIComponent(`s:${signature.sign('a-made-up-session-id', siteSecret)}`)}`,
      `COOKIELAB.SID=${value}`,
      `cookielab.sid=x; cookielab.sid=${value}`,
      `cookielab.sid=${'a'.repeat(9000)}`,
    ]) {
      assert.deepEqual((await exportWith(cookie)).lessons, {}, `Cookie: ${cookie.slice(0, 100)} showed another learner's progress`);
    }
    for (const path of [`/lessons/${lesson.slug}`, '/lessons', '/progress']) {
      const answer = await send(lab.baseUrl, path, { headers: { accept: 'text/html', cookie: `cookielab.sid=${value}x; cookielab.sid=%E0%A4%A` } });
      assert.equal(answer.status, 200, path);
    }
    assert.deepEqual(log.serverFailures(), []);
  });
});
