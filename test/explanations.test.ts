// Explanations that must follow what express-session really did, in cases where an earlier
// wording said more than happened: rolling without maxAge, and cookie options changed after the
// session was made (secure included).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox as createIn, updateOptions } from './support/http.ts';
import { visit, write } from './support/sandbox.ts';
import type { Exchange } from '../server/sandbox/model.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

const createSandbox = (options: unknown) => createIn(lab.baseUrl, options);

/**
 * A request from a browser that sends exactly `cookie` (or no cookie). Every exchange is also
 * checked with assertExplanationAgrees (support/sandbox.ts): its verdict is what really happened.
 */
async function request(id: string, action: 'visit' | 'write', cookie: string | null, value = 'ada'): Promise<Exchange> {
  const browser = new CookieClient(lab.baseUrl);
  const headers = cookie ? { headers: { cookie } } : {};
  return (action === 'write' ? await write(browser, id, 'user', value, headers) : await visit(browser, id, headers)).exchange;
}

describe('explanations', () => {
  it('rolling without maxAge: re-sent, and no claim of a fresh expiry (there is no Expires)', async () => {
    const id = await createSandbox({ rolling: true, cookie: { maxAge: null } });
    const first = await request(id, 'write', null);
    const again = await request(id, 'visit', first.setCookie[0]!.split(';')[0]!);
    assert.equal(again.setCookie.length, 1);
    assert.doesNotMatch(again.setCookie[0]!, /Expires/);
    assert.match(again.why, /rolling is on.*no maxAge, so no Expires/);
    assert.doesNotMatch(again.why, /fresh expiry/);
  });

  it('rolling with maxAge: a fresh expiry, said so', async () => {
    const id = await createSandbox({ rolling: true, cookie: { maxAge: 60_000 } });
    const first = await request(id, 'write', null);
    const again = await request(id, 'visit', first.setCookie[0]!.split(';')[0]!);
    assert.match(again.why, /fresh expiry/);
  });

  it('secure turned on after the session was made: the cookie goes again without Secure, and the note says the session was created with secure false', async () => {
    const id = await createSandbox({ cookie: { secure: false, maxAge: 60_000 } });
    const first = await request(id, 'write', null);
    const cookie = first.setCookie[0]!.split(';')[0]!;
    await updateOptions(lab.baseUrl, id, { cookie: { secure: true } });
    const again = await request(id, 'write', cookie, 'grace');
    assert.equal(again.setCookie.length, 1, again.why);
    assert.doesNotMatch(again.setCookie[0]!, /Secure/, 'express-session rebuilt the cookie from the stored session');
    assert.match(again.why, /created with secure false.*apply only to new sessions/);
  });
});
