// The second site beyond one process on one machine: a classroom's OTHER_SITE_HOST (links, the
// page, the way back), and which cookie the browser held kept in the database, so another instance
// (or the lab after a restart) still judges a request from the second site.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, readExchanges } from './support/http.ts';
import { write } from './support/sandbox.ts';
describe('a classroom server names its second site (OTHER_SITE_HOST)', () => {
  let classroom: Lab;
  before(async () => (classroom = await startLab({ config: { otherSiteHost: 'other.example.net' } })));
  after(() => classroom.stop());

  /** A request under a host name of our choosing (the classroom's DNS would send both names here). */
  function under(host: string, path: string, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    const url = new URL(classroom.baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers: { host: `${host}:${url.port}`, accept: 'text/html' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('links the sandbox to it, serves its page for the learner\'s host, and sends navigations back to it', async () => {
    const id = await createSandbox(classroom.baseUrl, {});
    const port = new URL(classroom.baseUrl).port;
    const sandboxPage = await under('lab.school.example', `/sandbox/${id}`);
    assert.equal(sandboxPage.status, 200);
    assert.ok(sandboxPage.body.includes(`href="http://other.example.net:${port}/sandbox/${id}/other-site?lab=lab.school.example"`), 'the link names the second site and the learner\'s host');
    assert.match(sandboxPage.body, /site <code>school\.example<\/code>/);

    const page = await under('other.example.net', `/sandbox/${id}/other-site?lab=lab.school.example`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), new RegExp(`form-action 'self' http://lab\\.school\\.example:${port}`));
    assert.ok(page.body.includes(`action="http://lab.school.example:${port}/sandbox/${id}/from-other-site/form"`));
    // A host of the second site's own registrable domain is no other site: refused.
    assert.equal((await under('other.example.net', `/sandbox/${id}/other-site?lab=www.example.net`)).status, 400);

    const back = await under('lab.school.example', `/sandbox/${id}/from-other-site/link`);
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, `http://other.example.net:${port}/sandbox/${id}/other-site?lab=lab.school.example`);
  });
});

describe('which cookie the browser held is kept where every instance sees it', () => {
  it('a jar answered before a restart (another process) still tells the cell of a request that carried no cookie', async () => {
    let before = await startLab();
    try {
      const id = await createSandbox(before.baseUrl, { cookie: { sameSite: 'strict' } });
      const { setCookie } = await write(new CookieClient(before.baseUrl), id, 'user', 'ada');
      const seen = await fetch(`${before.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', cookie: setCookie[0]!.split(';')[0]! } });
      assert.equal(seen.status, 200);
      before = await before.restart();
      await fetch(`${before.baseUrl}/sandbox/${id}/from-other-site/iframe`, { headers: { 'sec-fetch-site': 'cross-site' } });
      const cell = (await readExchanges(before.baseUrl, id)).at(-1)!.crossSite!.cell;
      assert.deepEqual({ kind: cell?.kind, sameSite: cell?.sameSite, sent: cell?.sent }, { kind: 'iframe', sameSite: 'strict', sent: false });

      // A state row read before the jar's newer reading was written (another request's sync) never undoes it.
      const box = (await before.registry.find(id))!;
      const newer = { name: 'mycookie', afterExchange: 3, values: ['new'], at: 2_000 };
      box.heldReading = newer;
      box.adoptState({ probe: null, cookiesClearedAfter: null, restarts: [], held: { ...newer, afterExchange: 1, values: ['old'], at: 1_000 } });
      assert.deepEqual(box.heldReading, newer);
      box.adoptState({ probe: null, cookiesClearedAfter: null, restarts: [], held: { ...newer, values: [], at: 3_000 } });
      assert.deepEqual(box.heldReading.values, [], 'a newer reading from another instance is taken');
    } finally {
      await before.stop();
    }
  });
});
