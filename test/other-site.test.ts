// The lab's second site (server/http/other-site.ts): which name the browser treats as another site.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'express';
import { hasOtherSite, otherSiteFor, sameSite, siteOf } from '../server/http/other-site.ts';

const request = (hostHeader: string, protocol = 'http') =>
  ({ hostname: hostHeader.replace(/:\d+$/, ''), protocol, get: (name: string) => (name.toLowerCase() === 'host' ? hostHeader : undefined) }) as unknown as Request;

describe('the second site', () => {
  it('is a site by registrable domain, port ignored; an IP and localhost are sites of their own', () => {
    assert.equal(siteOf('app.lab.example.org'), 'example.org');
    assert.equal(siteOf('shop.example.co.uk'), 'example.co.uk');
    assert.equal(siteOf('alice.github.io'), 'alice.github.io', 'github.io is a public suffix: each user is a site');
    assert.equal(siteOf('127.0.0.1'), '127.0.0.1');
    assert.equal(siteOf('localhost'), 'localhost');
    assert.ok(sameSite('lab.example.org', 'other.example.org'));
    assert.ok(!sameSite('alice.github.io', 'bob.github.io'));
    assert.ok(!sameSite('localhost', '127.0.0.1'));
  });

  it('on one machine: 127.0.0.1 for localhost and back, with the learner\'s scheme and port', () => {
    const found = otherSiteFor(request('localhost:3210'), null);
    assert.ok(hasOtherSite(found));
    assert.deepEqual(found, { origin: 'http://127.0.0.1:3210', host: '127.0.0.1', fromHost: 'localhost', site: 'localhost', otherSite: '127.0.0.1' });
    const back = otherSiteFor(request('127.0.0.1:3210'), null);
    assert.ok(hasOtherSite(back) && back.origin === 'http://localhost:3210');
  });

  it('a classroom server names it with OTHER_SITE_HOST', () => {
    const found = otherSiteFor(request('lab.school.example'), 'lab-other.example.net');
    assert.ok(hasOtherSite(found) && found.origin === 'http://lab-other.example.net');
  });

  it('none, and why, when the configured name is the same site, or when nothing is configured on a real host', () => {
    const same = otherSiteFor(request('lab.school.example'), 'other.school.example');
    assert.ok(!hasOtherSite(same));
    assert.match(same.reason, /same site as lab\.school\.example to a browser \(both are school\.example\)/);
    const none = otherSiteFor(request('lab.school.example'), null);
    assert.ok(!hasOtherSite(none));
    assert.match(none.reason, /sets OTHER_SITE_HOST/);
  });
});

describe('OTHER_SITE_HOST', () => {
  it('is read as a bare host name, lower-cased; anything else stops start-up with what to write', async () => {
    const { readConfig, ConfigError } = await import('../server/config.ts');
    const env = { SESSION_SECRET: 'x'.repeat(32), DATABASE_PATH: '/tmp/cookie-lab-config-test/lab.sqlite' };
    assert.equal(readConfig(env).otherSiteHost, null);
    assert.equal(readConfig({ ...env, OTHER_SITE_HOST: 'Lab-Other.Example.net' }).otherSiteHost, 'lab-other.example.net');
    for (const bad of ['http://other.example', 'other.example:3000', 'other.example/path', '-bad.example', 'a b']) {
      assert.throws(() => readConfig({ ...env, OTHER_SITE_HOST: bad }), (err: unknown) => err instanceof ConfigError && /OTHER_SITE_HOST must be a host name/.test((err as Error).message), bad);
    }
  });
});
