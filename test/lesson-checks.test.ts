// The task-check vocabulary (server/lessons/checks.ts), every kind passing and failing. Exchanges
// are real: recorded by a lab in-process and read back through the JSON API, then handed to
// evaluate() with the sandbox's options and probe. A failure's detail must say what was expected
// ("Expected <description>, but ...") and what was really observed.
// Long because it walks every check kind and condition, each passing and failing, in one place.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type Check, type CheckResult, type ExchangeConditions, type Observation, type OptionsConditions } from '../server/lessons/checks.ts';
import { articleOptions, validateOptions } from '../server/sandbox/options.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, readExchanges, readOptions, requestJson, updateOptions } from './support/http.ts';
import { act, parkAfterLoad, slow, visit, write } from './support/sandbox.ts';
import { withHandClock } from './support/clock.ts';

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

/** What a task check sees for a sandbox: its recorded exchanges, its options and its probe. */
async function observe(id: string): Promise<Observation> {
  const [exchanges, options] = await Promise.all([readExchanges(lab.baseUrl, id), readOptions(lab.baseUrl, id)]);
  const sandbox = await lab.registry.find(id);
  return { exchanges, options, probe: sandbox?.probe?.value ?? null };
}

/** A sandbox with the given options, and a browser of its own. */
async function sandbox(options: unknown = {}): Promise<{ id: string; browser: CookieClient }> {
  return { id: await createSandbox(lab.baseUrl, options), browser: new CookieClient(lab.baseUrl) };
}

const DESCRIPTION = 'what the test wants';

function exchangeCheck(where: ExchangeConditions, which: 'latest' | 'any' = 'latest', description = DESCRIPTION): Check {
  return { kind: 'exchange', which, where, description };
}

function assertPasses(result: CheckResult, why = ''): void {
  assert.deepEqual(result, { passed: true, detail: '' }, `expected the check to pass${why ? ` (${why})` : ''}, but: ${result.detail}`);
}

/** Fails, with a detail naming the expectation first, then every observed fragment in order. */
function assertFails(result: CheckResult, description: string, ...observed: string[]): void {
  assert.equal(result.passed, false, 'expected the check to fail');
  assert.ok(result.detail.startsWith(`Expected ${description}, but `), `the detail says what was expected: ${result.detail}`);
  let from = 0;
  for (const fragment of observed) {
    const at = result.detail.indexOf(fragment, from);
    assert.ok(at !== -1, `the detail should contain ${JSON.stringify(fragment)}: ${result.detail}`);
    from = at + fragment.length;
  }
}

describe('exchange checks', () => {
  it('fail with "no request has been made yet" before any exchange, for latest and any', async () => {
    const { id } = await sandbox();
    const seen = await observe(id);
    assert.equal(seen.exchanges.length, 0);
    for (const which of ['latest', 'any'] as const) {
      const result = evaluate(exchangeCheck({}, which, 'a first request'), seen);
      assert.deepEqual(result, { passed: false, detail: 'Expected a first request, but no request has been made yet.' });
    }
  });

  it('action: passes on the request made, fails naming the request really made', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ action: 'write' }), seen));
    assertFails(evaluate(exchangeCheck({ action: 'visit' }, 'latest', 'a visit'), seen), 'a visit', 'in exchange #1 (write)', 'the request was "write", not "visit"');
  });

  it('setCookie: true after a first write, false after an unchanged visit', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const afterWrite = await observe(id);
    assertPasses(evaluate(exchangeCheck({ setCookie: true }), afterWrite));
    assertFails(evaluate(exchangeCheck({ setCookie: false }), afterWrite), DESCRIPTION, 'a Set-Cookie was sent');
    await visit(browser, id);
    const afterVisit = await observe(id);
    assertPasses(evaluate(exchangeCheck({ setCookie: false }), afterVisit));
    assertFails(evaluate(exchangeCheck({ setCookie: true }), afterVisit), DESCRIPTION, 'in exchange #2 (visit)', 'no Set-Cookie was sent');
  });

  it('setCookie counts only the sandbox\'s own cookie name (after a rename, the new one)', async () => {
    const { id, browser } = await sandbox();
    await updateOptions(lab.baseUrl, id, { name: 'lab_sid' });
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    assert.ok(seen.exchanges[0]!.setCookie[0]!.startsWith('lab_sid='));
    assertPasses(evaluate(exchangeCheck({ setCookie: true, options: { name: { not: 'mycookie' } } }), seen));
  });

  describe('attributes', () => {
    it('httpOnly: present by default; "had" it when absence was wanted', async () => {
      const { id, browser } = await sandbox();
      await write(browser, id, 'user', 'ada');
      const seen = await observe(id);
      assertPasses(evaluate(exchangeCheck({ attributes: { httpOnly: true } }), seen));
      assertFails(evaluate(exchangeCheck({ attributes: { httpOnly: false } }), seen), DESCRIPTION, 'the cookie had the HttpOnly attribute');
    });

    it('httpOnly off: absent; "lacked" it when presence was wanted', async () => {
      const { id, browser } = await sandbox({ cookie: { httpOnly: false } });
      await write(browser, id, 'user', 'ada');
      const seen = await observe(id);
      assertPasses(evaluate(exchangeCheck({ attributes: { httpOnly: false } }), seen));
      assertFails(evaluate(exchangeCheck({ attributes: { httpOnly: true } }), seen), DESCRIPTION, 'the cookie lacked the HttpOnly attribute');
    });

    it('secure: present over (forwarded) HTTPS with secure on, absent with the article\'s options', async () => {
      const secure = await sandbox({ proxy: true, cookie: { secure: true } });
      await write(secure.browser, secure.id, 'user', 'ada', { headers: { 'x-forwarded-proto': 'https' } });
      const seenSecure = await observe(secure.id);
      assertPasses(evaluate(exchangeCheck({ attributes: { secure: true } }), seenSecure));
      assertFails(evaluate(exchangeCheck({ attributes: { secure: false } }), seenSecure), DESCRIPTION, 'the cookie had the Secure attribute');

      const plain = await sandbox();
      await write(plain.browser, plain.id, 'user', 'ada');
      const seenPlain = await observe(plain.id);
      assertPasses(evaluate(exchangeCheck({ attributes: { secure: false } }), seenPlain));
      assertFails(evaluate(exchangeCheck({ attributes: { secure: true } }), seenPlain), DESCRIPTION, 'the cookie lacked the Secure attribute');
    });

    it('secure on over plain HTTP: no Set-Cookie at all, which the detail says', async () => {
      const { id, browser } = await sandbox({ cookie: { secure: true } });
      await write(browser, id, 'user', 'ada');
      const seen = await observe(id);
      assertFails(evaluate(exchangeCheck({ attributes: { secure: true } }), seen), DESCRIPTION, 'in exchange #1 (write)', 'no Set-Cookie was sent');
      assertPasses(evaluate(exchangeCheck({ action: 'write', setCookie: false, why: 'cookie.secure is on' }), seen));
    });

    it('expires: present with a maxAge (its value matches too), absent for a browser-session cookie', async () => {
      const timed = await sandbox();
      await write(timed.browser, timed.id, 'user', 'ada');
      const seenTimed = await observe(timed.id);
      const expires = seenTimed.exchanges[0]!.setCookieParsed[0]!.expires!;
      assert.ok(expires, 'the Set-Cookie has an Expires');
      assertPasses(evaluate(exchangeCheck({ attributes: { expires: true } }), seenTimed));
      assertPasses(evaluate(exchangeCheck({ attributes: { expires: expires.toUpperCase() } }), seenTimed), 'values compare case-insensitively');
      assertFails(evaluate(exchangeCheck({ attributes: { expires: false } }), seenTimed), DESCRIPTION, 'the cookie had the Expires attribute');

      const session = await sandbox({ cookie: { maxAge: null } });
      await write(session.browser, session.id, 'user', 'ada');
      const seenSession = await observe(session.id);
      assertPasses(evaluate(exchangeCheck({ attributes: { expires: false } }), seenSession));
      assertFails(evaluate(exchangeCheck({ attributes: { expires: true } }), seenSession), DESCRIPTION, 'the cookie lacked the Expires attribute');
      assertFails(evaluate(exchangeCheck({ attributes: { expires: expires } }), seenSession), DESCRIPTION, 'its Expires was absent, not', expires);
    });

    it('sameSite: matched case-insensitively; the detail gives the value seen, or "absent"', async () => {
      const lax = await sandbox({ cookie: { sameSite: 'lax' } });
      await write(lax.browser, lax.id, 'user', 'ada');
      const seenLax = await observe(lax.id);
      assertPasses(evaluate(exchangeCheck({ attributes: { sameSite: 'lax' } }), seenLax));
      assertPasses(evaluate(exchangeCheck({ attributes: { sameSite: 'LAX', httpOnly: true } }), seenLax));
      assertFails(evaluate(exchangeCheck({ attributes: { sameSite: 'strict' } }), seenLax), DESCRIPTION, 'its SameSite was "Lax", not "strict"');

      const none = await sandbox();
      await write(none.browser, none.id, 'user', 'ada');
      const seenNone = await observe(none.id);
      assertPasses(evaluate(exchangeCheck({ attributes: { sameSite: false } }), seenNone));
      assertFails(evaluate(exchangeCheck({ attributes: { sameSite: 'lax' } }), seenNone), DESCRIPTION, 'its SameSite was absent, not "lax"');
    });

    it('domain: the value the Set-Cookie carried', async () => {
      const { id, browser } = await sandbox({ cookie: { domain: 'example.com' } });
      await write(browser, id, 'user', 'ada');
      const seen = await observe(id);
      assertPasses(evaluate(exchangeCheck({ attributes: { domain: 'example.com' } }), seen));
      assertPasses(evaluate(exchangeCheck({ attributes: { domain: true } }), seen));
      assertFails(evaluate(exchangeCheck({ attributes: { domain: 'other.example' } }), seen), DESCRIPTION, 'its Domain was "example.com", not "other.example"');
    });
  });

  it('requestCookie: absent, valid, bad-signature and unsigned, each passing and failing', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada'); // #1: no cookie yet
    await visit(browser, id); // #2: the cookie it was given
    await visit(new CookieClient(lab.baseUrl), id, { headers: { cookie: 'mycookie=s%3Aabc.forged' } }); // #3
    await visit(new CookieClient(lab.baseUrl), id, { headers: { cookie: 'mycookie=plain-id' } }); // #4
    const seen = await observe(id);
    const at = (n: number): Observation => ({ ...seen, exchanges: seen.exchanges.slice(0, n) });
    const cases = [
      { n: 1, verdict: 'absent', label: 'absent' },
      { n: 2, verdict: 'valid', label: 'validly signed' },
      { n: 3, verdict: 'bad-signature', label: 'badly signed' },
      { n: 4, verdict: 'unsigned', label: 'unsigned' },
    ] as const;
    for (const { n, verdict, label } of cases) {
      assertPasses(evaluate(exchangeCheck({ requestCookie: verdict }), at(n)), verdict);
      const other = cases.find((c) => c.verdict !== verdict)!;
      assertFails(evaluate(exchangeCheck({ requestCookie: other.verdict }), at(n)), DESCRIPTION, `in exchange #${n}`, `the request's cookie was ${label}, not ${other.label}`);
    }
  });

  it('verifiedBy: the index of the secret that verified the cookie, after a rotation', async () => {
    const { id, browser } = await sandbox({ secret: ['old-secret'] });
    await write(browser, id, 'user', 'ada');
    await visit(browser, id);
    const beforeRotation = await observe(id);
    assertPasses(evaluate(exchangeCheck({ verifiedBy: 0 }), beforeRotation));
    await updateOptions(lab.baseUrl, id, { secret: ['new-secret', 'old-secret'] });
    await visit(browser, id);
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ verifiedBy: 1, requestCookie: 'valid', sessionFound: true }), seen));
    assertFails(evaluate(exchangeCheck({ verifiedBy: 0 }), seen), DESCRIPTION, "the request's cookie was verified by secret #2, not by secret #1");
    // The first write carried no cookie at all.
    const firstWrite = { ...seen, exchanges: seen.exchanges.slice(0, 1) };
    assertFails(evaluate(exchangeCheck({ action: 'write', verifiedBy: 0 }), firstWrite), DESCRIPTION, 'in exchange #1 (write)', "the request's cookie was not verified, not by secret #1");
  });

  it('storeCalls: includes and excludes, the detail listing the calls made', async () => {
    const { id, browser } = await sandbox();
    await visit(browser, id); // no cookie, nothing written: no store call at all
    const none = await observe(id);
    assertFails(evaluate(exchangeCheck({ storeCalls: { includes: ['get'] } }), none), DESCRIPTION, 'the store was not asked to get (calls: none)');
    assertPasses(evaluate(exchangeCheck({ storeCalls: { excludes: ['get', 'set', 'touch', 'destroy'] } }), none));

    await write(browser, id, 'user', 'ada');
    await visit(browser, id); // get, touch
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ storeCalls: { includes: ['get', 'touch'], excludes: ['set'] } }), seen));
    assertFails(evaluate(exchangeCheck({ storeCalls: { includes: ['get', 'set'] } }), seen), DESCRIPTION, 'the store was not asked to set (calls: get, touch)');
    assertFails(evaluate(exchangeCheck({ storeCalls: { excludes: ['touch'] } }), seen), DESCRIPTION, 'the store was asked to touch');
  });

  it('sessionFound: true when the store had the session, false after a sandbox restart lost it', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    await visit(browser, id);
    const found = await observe(id);
    assertPasses(evaluate(exchangeCheck({ sessionFound: true }), found));
    assertFails(evaluate(exchangeCheck({ sessionFound: false }), found), DESCRIPTION, 'the store found the session');

    const restarted = await requestJson(lab.baseUrl, `/sandbox/${id}/restart`, { method: 'POST' });
    assert.equal(restarted.status, 303);
    await visit(browser, id);
    const lost = await observe(id);
    assertPasses(evaluate(exchangeCheck({ requestCookie: 'valid', sessionFound: false }), lost));
    assertFails(evaluate(exchangeCheck({ sessionFound: true }), lost), DESCRIPTION, 'in exchange #3 (visit)', 'the store had no session for the request');
  });

  it('sessionFound is false when the store was never asked', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ sessionFound: false }), seen));
    assertFails(evaluate(exchangeCheck({ sessionFound: true }), seen), DESCRIPTION, 'the store had no session for the request');
  });

  it('sessionAfter: exists, has (values as strings) and lacks', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    await write(browser, id, 'count', 42);
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ sessionAfter: { exists: true, has: { user: 'ada', count: '42' }, lacks: ['color'] } }), seen));
    assertFails(evaluate(exchangeCheck({ sessionAfter: { exists: false } }), seen), DESCRIPTION, 'the store still held the session');
    assertFails(evaluate(exchangeCheck({ sessionAfter: { has: { user: 'bob' } } }), seen), DESCRIPTION, `the stored session's "user" was "ada", not "bob"`);
    assertFails(evaluate(exchangeCheck({ sessionAfter: { has: { color: 'blue' } } }), seen), DESCRIPTION, `the stored session's "color" was missing, not "blue"`);
    assertFails(evaluate(exchangeCheck({ sessionAfter: { lacks: ['user'] } }), seen), DESCRIPTION, 'the stored session still had "user"');

    await act(browser, id, 'destroy');
    const destroyed = await observe(id);
    assertPasses(evaluate(exchangeCheck({ action: 'destroy', sessionAfter: { exists: false } }), destroyed));
    assertFails(evaluate(exchangeCheck({ sessionAfter: { exists: true } }), destroyed), DESCRIPTION, 'in exchange #3 (destroy)', 'the store held no session afterwards');
    assertFails(evaluate(exchangeCheck({ sessionAfter: { has: { user: 'ada' } } }), destroyed), DESCRIPTION, `the stored session's "user" was missing, not "ada"`);
  });

  it('why: a phrase of the explanation, case-insensitive; the detail quotes the explanation', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    const why = seen.exchanges[0]!.why;
    assert.match(why, /session is new and was modified/);
    assertPasses(evaluate(exchangeCheck({ why: 'SESSION IS NEW AND WAS MODIFIED' }), seen));
    assertFails(evaluate(exchangeCheck({ why: 'cookie.secure is on' }), seen), DESCRIPTION, `the explanation was: "${why}"`);
  });

  it('options: the options the request was made with, not the current ones', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    await updateOptions(lab.baseUrl, id, { name: 'lab_sid', resave: true });
    const seen = await observe(id);
    assert.equal(seen.options.name, 'lab_sid', 'the sandbox was renamed since');
    assertPasses(evaluate(exchangeCheck({ options: { name: 'mycookie', resave: false } }), seen));
    assertFails(evaluate(exchangeCheck({ options: { name: { not: 'mycookie' } } }), seen), DESCRIPTION, 'when it was made, name was still "mycookie"');
    assertFails(evaluate(exchangeCheck({ options: { resave: true } }), seen), DESCRIPTION, 'when it was made, resave was false, not true');
  });

  it('every condition must hold on the same exchange', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada'); // #1 write with a Set-Cookie
    await visit(browser, id); // #2 visit without one
    const seen = await observe(id);
    assertPasses(evaluate(exchangeCheck({ action: 'write', setCookie: true }, 'any'), seen));
    assertPasses(evaluate(exchangeCheck({ action: 'visit', setCookie: false }, 'any'), seen));
    assertFails(evaluate(exchangeCheck({ action: 'visit', setCookie: true }, 'any'), seen), DESCRIPTION, 'in exchange #2 (visit)', 'no Set-Cookie was sent');
  });

  it('which: latest looks at the newest exchange only, any at every one', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    await visit(browser, id);
    await visit(browser, id);
    const seen = await observe(id);
    const wrote = { action: 'write', setCookie: true } as const;
    assertPasses(evaluate(exchangeCheck(wrote, 'any'), seen));
    assertFails(evaluate(exchangeCheck(wrote, 'latest', 'a write'), seen), 'a write', 'in exchange #3 (visit)', 'the request was "visit", not "write"');
    // With no match anywhere, `any` reports the newest exchange's mismatch.
    assertFails(evaluate(exchangeCheck({ action: 'destroy' }, 'any', 'a destroy'), seen), 'a destroy', 'in exchange #3 (visit)', 'the request was "visit", not "destroy"');
  });
});

describe('probe checks', () => {
  async function probe(id: string, documentCookie: string): Promise<void> {
    const res = await requestJson(lab.baseUrl, `/sandbox/${id}/probe`, { method: 'POST', json: { documentCookie } });
    assert.equal(res.status, 204);
  }

  it('fail before the probe was ever read, asking for it', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    assert.equal(seen.probe, null);
    for (const cookieVisible of [true, false]) {
      assert.deepEqual(evaluate({ kind: 'probe', cookieVisible, description: 'x' }, seen), { passed: false, detail: 'Read document.cookie with the probe first.' });
    }
  });

  it('visible: page JavaScript saw the sandbox cookie', async () => {
    const { id, browser } = await sandbox({ cookie: { httpOnly: false } });
    const reply = await write(browser, id, 'user', 'ada');
    const pair = reply.setCookie[0]!.split(';')[0]!;
    await probe(id, `other=1; ${pair}`);
    const seen = await observe(id);
    assertPasses(evaluate({ kind: 'probe', cookieVisible: true, description: 'x' }, seen));
    const hidden = evaluate({ kind: 'probe', cookieVisible: false, description: 'x' }, seen);
    assert.deepEqual(hidden, { passed: false, detail: 'Expected the "mycookie" cookie to be hidden from page JavaScript, but document.cookie showed it.' });
  });

  it('hidden: document.cookie held only other cookies (a longer name sharing the prefix does not count)', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    await probe(id, 'theme=dark; mycookie2=x');
    const seen = await observe(id);
    assertPasses(evaluate({ kind: 'probe', cookieVisible: false, description: 'x' }, seen));
    const visible = evaluate({ kind: 'probe', cookieVisible: true, description: 'x' }, seen);
    assert.deepEqual(visible, { passed: false, detail: 'Expected page JavaScript to see the "mycookie" cookie, but document.cookie was "theme=dark; mycookie2=x".' });
  });

  it('hidden: an empty document.cookie', async () => {
    const { id } = await sandbox();
    await probe(id, '');
    const seen = await observe(id);
    assert.equal(seen.probe, '');
    assertPasses(evaluate({ kind: 'probe', cookieVisible: false, description: 'x' }, seen));
    assert.equal(evaluate({ kind: 'probe', cookieVisible: true, description: 'x' }, seen).detail, 'Expected page JavaScript to see the "mycookie" cookie, but document.cookie was "".');
  });
});

describe('options checks', () => {
  const seen = (patch: unknown): Observation => ({ exchanges: [], options: validateOptions(patch), probe: null });
  const options = (where: OptionsConditions, description = 'the wanted options'): Check => ({ kind: 'options', where, description });

  it('exact values: name, cookie values, and the top-level flags', () => {
    const observation = seen({ name: 'sid', cookie: { sameSite: 'lax', maxAge: 1000 }, resave: true, store: 'database', proxy: null });
    assertPasses(evaluate(options({ name: 'sid', cookie: { sameSite: 'lax', maxAge: 1000, httpOnly: true }, resave: true, store: 'database', proxy: null }), observation));
    assert.deepEqual(evaluate(options({ name: 'lab_sid' }), observation), { passed: false, detail: 'Expected the wanted options, but name was "sid", not "lab_sid".' });
    assertFails(evaluate(options({ cookie: { sameSite: 'strict' } }), observation), 'the wanted options', 'cookie.sameSite was "lax", not "strict"');
    assertFails(evaluate(options({ cookie: { domain: 'example.com' } }), observation), 'the wanted options', 'cookie.domain was null, not "example.com"');
    assertFails(evaluate(options({ resave: false }), observation), 'the wanted options', 'resave was true, not false');
    assertFails(evaluate(options({ saveUninitialized: true }), observation), 'the wanted options', 'saveUninitialized was false, not true');
    assertFails(evaluate(options({ rolling: true }), observation), 'the wanted options', 'rolling was false, not true');
    assertFails(evaluate(options({ unset: 'destroy' }), observation), 'the wanted options', 'unset was "keep", not "destroy"');
    assertFails(evaluate(options({ proxy: true }), observation), 'the wanted options', 'proxy was null, not true');
    assertFails(evaluate(options({ store: 'memory' }), observation), 'the wanted options', 'store was "database", not "memory"');
  });

  it('{ not }: on the name and on a cookie value', () => {
    assertPasses(evaluate(options({ name: { not: 'mycookie' } }), seen({ name: 'sid' })));
    assertFails(evaluate(options({ name: { not: 'mycookie' } }), seen({})), 'the wanted options', 'name was still "mycookie"');
    assertPasses(evaluate(options({ cookie: { secure: { not: false } } }), seen({ cookie: { secure: 'auto' } })));
    assertFails(evaluate(options({ cookie: { secure: { not: false } } }), seen({})), 'the wanted options', 'cookie.secure was false, not {"not":false}');
  });

  it('{ oneOf }', () => {
    const check = options({ cookie: { secure: { oneOf: [true, 'auto'] } } });
    assertPasses(evaluate(check, seen({ cookie: { secure: true } })));
    assertPasses(evaluate(check, seen({ cookie: { secure: 'auto' } })));
    assertFails(evaluate(check, seen({})), 'the wanted options', 'cookie.secure was false, not {"oneOf":[true,"auto"]}');
  });

  it('{ atLeast } and { atMost }, inclusive; a null maxAge is neither', () => {
    const eightHours = 8 * 60 * 60 * 1000;
    assertPasses(evaluate(options({ cookie: { maxAge: { atMost: eightHours } } }), seen({ cookie: { maxAge: eightHours } })));
    assertPasses(evaluate(options({ cookie: { maxAge: { atLeast: eightHours } } }), seen({ cookie: { maxAge: eightHours } })));
    assertFails(evaluate(options({ cookie: { maxAge: { atMost: eightHours } } }), seen({ cookie: { maxAge: eightHours + 1 } })), 'the wanted options', `cookie.maxAge was ${eightHours + 1}, not {"atMost":${eightHours}}`);
    assertFails(evaluate(options({ cookie: { maxAge: { atLeast: 1000 } } }), seen({ cookie: { maxAge: 999 } })), 'the wanted options', 'cookie.maxAge was 999, not {"atLeast":1000}');
    assertFails(evaluate(options({ cookie: { maxAge: { atMost: eightHours } } }), seen({ cookie: { maxAge: null } })), 'the wanted options', 'cookie.maxAge was null, not {"atMost"');
    assertFails(evaluate(options({ cookie: { maxAge: { atLeast: 0 } } }), seen({ cookie: { maxAge: null } })), 'the wanted options', 'cookie.maxAge was null');
  });

  it('secretCount', () => {
    assertPasses(evaluate(options({ secretCount: 2 }), seen({ secret: ['new', 'old'] })));
    assertFails(evaluate(options({ secretCount: 2 }), seen({})), 'the wanted options', '1 secret(s) were listed, not 2');
  });

  it('secretExcludes', () => {
    assertPasses(evaluate(options({ secretExcludes: 'cookiesaregood' }), seen({ secret: ['a-long-random-secret'] })));
    assertFails(evaluate(options({ secretExcludes: 'cookiesaregood' }), seen({ secret: ['new', 'cookiesaregood'] })), 'the wanted options', 'the secret list still holds "cookiesaregood"');
  });

  it('an empty condition holds for any options (the article\'s included)', () => {
    assertPasses(evaluate(options({}), { exchanges: [], options: articleOptions, probe: null }));
  });
});

describe('race checks (real overlapping slow visits and writes)', () => {
  // No head start is guessed: the slow visit is parked right after its store answered its `get`
  // (parkAfterLoad), the write runs to the end, and then the slow visit goes on. The clock is
  // moved by hand between the steps, so the recorded times are in different milliseconds.
  const SLOW_MS = 50;
  let raced: { true: Observation; false: Observation };

  /** A slow visit that loads the session, `during` (other requests), then finishes. */
  function slowVisitAround(id: string, browser: CookieClient, during: () => Promise<unknown>): Promise<void> {
    return withHandClock(async (clock) => {
      const parked = await parkAfterLoad(lab, id, () => slow(browser, id, SLOW_MS));
      clock.tick(1);
      await during();
      clock.tick(1);
      parked.release();
      await parked.reply;
    });
  }

  async function race(resave: boolean): Promise<Observation> {
    const { id, browser } = await sandbox({ resave });
    await write(browser, id, 'before', 'kept');
    await slowVisitAround(id, browser, () => write(browser, id, 'during', 'written'));
    const seen = await observe(id);
    // The write really ran inside the slow visit.
    const slowEx = seen.exchanges.find((e) => e.action === 'slow');
    const writeEx = seen.exchanges.find((e) => e.action === 'write' && e.input?.key === 'during');
    assert.ok(slowEx && writeEx, 'both the slow visit and the write were recorded');
    assert.equal((slowEx.sessionBefore as Record<string, unknown> | null)?.during, undefined, 'the slow visit loaded the session before the write');
    assert.ok(writeEx.startedAt > slowEx.startedAt && writeEx.finishedAt < slowEx.finishedAt, 'the write overlapped the slow visit');
    return seen;
  }

  before(async () => {
    raced = { true: await race(true), false: await race(false) };
  });

  const check = (resave: boolean, kept: boolean): Check => ({
    kind: 'race',
    resave,
    kept,
    description: `a write during a slow visit with resave ${resave ? 'on' : 'off'}, ${kept ? 'kept' : 'lost'}`,
  });

  it('resave on: the write is lost; "kept" fails saying it was lost', () => {
    assertPasses(evaluate(check(true, false), raced.true));
    assertFails(evaluate(check(true, true), raced.true), 'a write during a slow visit with resave on, kept', 'the write of "during" was lost when the slow request finished');
  });

  it('resave off: the write is kept; "lost" fails saying it was kept', () => {
    assertPasses(evaluate(check(false, true), raced.false));
    assertFails(evaluate(check(false, false), raced.false), 'a write during a slow visit with resave off, lost', 'the write of "during" was kept when the slow request finished');
  });

  it('a race run with the other resave setting does not count', () => {
    assertFails(evaluate(check(false, true), raced.true), 'a write during a slow visit with resave off, kept', 'no write has run while a slow visit (with resave off) was still in flight on the same session');
    assertFails(evaluate(check(true, false), raced.false), 'a write during a slow visit with resave on, lost', 'no write has run while a slow visit (with resave on) was still in flight on the same session');
  });

  it('a write after the slow visit finished, or from another session, is no race', async () => {
    const { id, browser } = await sandbox({ resave: true });
    await write(browser, id, 'before', 'kept');
    await slow(browser, id, 50);
    await write(browser, id, 'after', 'written');
    // Another browser's write while a slow visit is in flight: a different session.
    await slowVisitAround(id, browser, () => write(new CookieClient(lab.baseUrl), id, 'stranger', 'x'));
    const seen = await observe(id);
    const inFlight = seen.exchanges.at(-1)!;
    assert.equal(inFlight.action, 'slow', 'the slow visit finished last');
    const stranger = seen.exchanges.find((e) => e.input?.key === 'stranger')!;
    assert.ok(stranger.startedAt > inFlight.startedAt && stranger.finishedAt < inFlight.finishedAt, 'the stranger\'s write ran inside the slow visit');
    assert.notEqual(stranger.sessionId, inFlight.sessionId);
    for (const kept of [true, false]) {
      assertFails(evaluate(check(true, kept), seen), check(true, kept).description, 'no write has run while a slow visit (with resave on) was still in flight');
    }
  });
});

describe('all checks', () => {
  it('pass when every part passes; otherwise report the first failing part\'s detail', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    const wrote: Check = exchangeCheck({ action: 'write', setCookie: true }, 'latest', 'a write with a Set-Cookie');
    const named: Check = { kind: 'options', where: { name: 'mycookie' }, description: 'the article\'s cookie name' };
    const visited: Check = exchangeCheck({ action: 'visit' }, 'latest', 'a visit');
    const probed: Check = { kind: 'probe', cookieVisible: false, description: 'the cookie hidden' };
    assertPasses(evaluate({ kind: 'all', checks: [wrote, named], description: 'both' }, seen));
    const result = evaluate({ kind: 'all', checks: [wrote, named, visited, probed], description: 'all four' }, seen);
    assert.deepEqual(result, evaluate(visited, seen), 'the first failing part is reported, as it reports itself');
    assertFails(result, 'a visit', 'in exchange #1 (write)', 'the request was "write", not "visit"');
    assert.deepEqual(evaluate({ kind: 'all', checks: [named, probed, visited], description: 'x' }, seen), { passed: false, detail: 'Read document.cookie with the probe first.' });
  });

  it('nest', async () => {
    const { id, browser } = await sandbox();
    await write(browser, id, 'user', 'ada');
    const seen = await observe(id);
    const inner: Check = { kind: 'all', description: 'inner', checks: [{ kind: 'options', where: { secretCount: 2 }, description: 'two secrets' }] };
    assertFails(evaluate({ kind: 'all', description: 'outer', checks: [exchangeCheck({ action: 'write' }), inner] }, seen), 'two secrets', '1 secret(s) were listed, not 2');
  });
});
