// The lab's predictions of what a browser does with a Set-Cookie, for the cases Chromium was seen
// to treat differently from a plain reading of the header (each checked against Chromium in
// e2e/jar.spec.ts, where the observed verdict, not this prediction, is what the page shows).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserNotes } from '../server/exchange/browser-notes.ts';
import { parseSetCookie } from '../server/exchange/cookie-anatomy.ts';

const future = new Date(Date.now() + 3_600_000).toUTCString();
const notes = (header: string, host: string, https = false) => browserNotes(parseSetCookie(header, ['s']), host, https);
const rejections = (header: string, host: string, https = false) => notes(header, host, https).filter((note) => note.startsWith('The browser rejects'));

describe('browser notes', () => {
  describe('Domain', () => {
    it('an IP host never matches a domain suffix: Domain=0.0.1 from 127.0.0.1 is refused', () => {
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=0.0.1`, '127.0.0.1').join(), /127\.0\.0\.1 is an IP address/);
    });
    it('Domain equal to the IP host itself is accepted', () => {
      assert.deepEqual(rejections(`sid=v; Path=/; Expires=${future}; Domain=127.0.0.1`, '127.0.0.1'), []);
    });
    it('a public suffix (github.io, from the private section of the list) is refused from app.github.io', () => {
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=github.io`, 'app.github.io').join(), /github\.io is a public suffix/);
    });
    it('an ICANN suffix (co.uk) is refused from shop.example.co.uk; the registrable domain is accepted', () => {
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=co.uk`, 'shop.example.co.uk').join(), /co\.uk is a public suffix/);
      assert.deepEqual(rejections(`sid=v; Path=/; Expires=${future}; Domain=example.co.uk`, 'shop.example.co.uk'), []);
    });
    it('a top-level name the list does not know (test, from lab.test) counts as a public suffix, as the list\'s default rule says: refused', () => {
      // Seen in Chromium 156 by e2e/host-matrix.spec.ts: Domain=test from lab.test is refused.
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=test`, 'lab.test').join(), /test is a top-level name/);
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=localhost`, 'app.localhost').join(), /localhost is a top-level name/);
    });
    it('a Domain equal to a single-label host (localhost) is accepted: the browser keeps it as a host-only cookie', () => {
      assert.deepEqual(rejections(`sid=v; Path=/; Expires=${future}; Domain=localhost`, 'localhost'), []);
    });
    it('a parent domain that covers the host is accepted (lab.test from app.lab.test); one that does not is refused', () => {
      assert.deepEqual(rejections(`sid=v; Path=/; Expires=${future}; Domain=lab.test`, 'app.lab.test'), []);
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Domain=other.test`, 'app.lab.test').join(), /does not cover the host app\.lab\.test/);
    });
  });

  describe('name prefixes, whatever their case', () => {
    for (const name of ['__Host-sid', '__host-sid', '__HOST-sid']) {
      it(`${name} with a sandbox path and no Secure is refused`, () => {
        assert.match(rejections(`${name}=v; Path=/sandbox/x; Expires=${future}`, 'localhost').join(), /__Host-/);
      });
    }
    for (const name of ['__Secure-sid', '__secure-sid']) {
      it(`${name} without Secure is refused; with Secure it is not`, () => {
        assert.match(rejections(`${name}=v; Path=/; Expires=${future}`, 'localhost').join(), /__Secure-/);
        assert.deepEqual(rejections(`${name}=v; Path=/; Expires=${future}; Secure`, 'localhost'), []);
      });
    }
  });

  describe('Secure', () => {
    it('over plain HTTP to a real host name: refused, and the note says a header does not convince the browser', () => {
      assert.match(rejections(`sid=v; Path=/; Expires=${future}; Secure`, 'lab.test').join(), /Secure but came over plain HTTP from lab\.test .*X-Forwarded-Proto/);
    });
    it('over plain HTTP to localhost: kept (a secure context), and said so', () => {
      assert.deepEqual(rejections(`sid=v; Path=/; Expires=${future}; Secure`, 'localhost'), []);
      assert.match(notes(`sid=v; Path=/; Expires=${future}; Secure`, 'localhost').join(), /localhost counts as a secure context/);
    });
    it('over a real HTTPS connection: no note about Secure', () => {
      assert.deepEqual(notes(`sid=v; Path=/; Expires=${future}; Secure`, 'lab.test', true), []);
    });
  });
});

describe('the scheme a note is fed', () => {
  it('is the lab\'s own view (its trust proxy setting), not what the sandbox\'s proxy option made express-session believe', async () => {
    const { startLab } = await import('./support/lab.ts');
    for (const [trustProxy, connectionSecure] of [[0, false], [1, true]] as const) {
      const lab = await startLab({ config: { trustProxy } });
      try {
        const created = await fetch(`${lab.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proxy: true, cookie: { secure: true } }) });
        const { id } = (await created.json()) as { id: string };
        const res = await fetch(`${lab.baseUrl}/sandbox/${id}/write`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-proto': 'https' },
          body: JSON.stringify({ key: 'k', value: 'v' }),
        });
        const exchange = (await res.json()) as { connectionSecure: boolean; decision: { requestSecure: boolean }; browserNotes: string[] };
        assert.equal(exchange.decision.requestSecure, true, 'express-session believed the header');
        assert.equal(exchange.connectionSecure, connectionSecure, `trust proxy ${trustProxy}`);
        assert.equal(exchange.browserNotes.some((note) => /plain HTTP/.test(note)), !connectionSecure, JSON.stringify(exchange.browserNotes));
      } finally {
        await lab.stop();
      }
    }
  });
});
