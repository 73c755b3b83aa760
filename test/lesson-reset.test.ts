// "Reset this lesson", "Clear my cookie" and the progress page's reset: each puts the sandbox
// back as the lesson starts it and clears its cookies from the browser (a lesson redone as written
// behaves as written), and says what it cleared.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';

let lab: Lab;
// The site's sessions in the database, whatever the run's default: a test below reads their table.
before(async () => (lab = await startLab({ config: { siteSessionStore: 'database' } })));
after(() => lab.stop());

const SLUG = 'what-a-session-cookie-is';

/** A learner: the site cookie, and the sandbox cookie pairs as the browser would keep them (by name). */
class Learner {
  site = '';
  sandboxCookies = new Map<string, string>();

  async openLesson(query = ''): Promise<{ html: string; sandboxId: string }> {
    const res = await fetch(`${lab.baseUrl}/lessons/${SLUG}${query}`, { headers: this.site ? { cookie: this.site } : {} });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('cookielab.sid='));
    if (set) this.site = set.split(';')[0]!;
    const html = await res.text();
    const sandboxId = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(html)?.[1];
    assert.ok(sandboxId, 'the lesson page shows its sandbox');
    return { html, sandboxId };
  }

  keep(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair] = header.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (name === 'cookielab.sid') this.site = pair!;
      else if (/Expires=Thu, 01 Jan 1970/.test(header) || value === '') this.sandboxCookies.delete(name);
      else this.sandboxCookies.set(name, value);
    }
  }

  async write(sandboxId: string): Promise<void> {
    const cookie = [...this.sandboxCookies].map(([n, v]) => `${n}=${v}`).join('; ');
    const res = await fetch(`${lab.baseUrl}/sandbox/${sandboxId}/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ key: 'user', value: 'ada' }),
    });
    assert.equal(res.status, 200);
    this.keep(res.headers.getSetCookie());
  }

  async tasksHtml(): Promise<string> {
    return (await fetch(`${lab.baseUrl}/lessons/${SLUG}/tasks`, { headers: { cookie: this.site } })).text();
  }
}

describe('Reset this lesson', () => {
  it('reopens the tasks, puts the options back, clears every sandbox cookie the browser got, and says so', async () => {
    const learner = new Learner();
    const { sandboxId } = await learner.openLesson();
    await learner.write(sandboxId);
    assert.match(await learner.tasksHtml(), /1 of 3 tasks/);
    const put = await fetch(`${lab.baseUrl}/api/sandboxes/${sandboxId}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'lab_sid' }) });
    assert.equal(put.status, 200);
    await learner.write(sandboxId);
    assert.deepEqual([...learner.sandboxCookies.keys()].sort(), ['lab_sid', 'mycookie']);

    // A request from the second site that carried the cookie fills a cell of the cross-site grid.
    const carried = [...learner.sandboxCookies].map(([n, v]) => `${n}=${v}`).join('; ');
    assert.equal((await fetch(`${lab.baseUrl}/sandbox/${sandboxId}/from-other-site/image`, { headers: { cookie: carried } })).status, 200);
    assert.ok((await lab.registry.crossSiteGrid((await lab.registry.find(sandboxId))!)).image.unset, 'a cell was filled');

    const reset = await fetch(`${lab.baseUrl}/lessons/${SLUG}/reset`, { method: 'POST', headers: { cookie: learner.site }, redirect: 'manual' });
    assert.equal(reset.status, 303);
    const expired = reset.headers.getSetCookie();
    for (const name of ['lab_sid', 'mycookie']) {
      assert.ok(expired.includes(`${name}=; Path=/sandbox/${sandboxId}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`), JSON.stringify(expired));
    }
    learner.keep(expired);
    assert.equal(learner.sandboxCookies.size, 0, 'the browser holds no sandbox cookie any more');

    const options = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${sandboxId}/options`)).json()) as { name: string };
    assert.equal(options.name, 'mycookie', "the lesson's own options again");
    const { html } = await learner.openLesson(new URL(reset.headers.get('location')!, lab.baseUrl).search);
    assert.match(html, /Lesson reset: its tasks are open again/);
    assert.equal(Object.values(await lab.registry.crossSiteGrid((await lab.registry.find(sandboxId))!)).flatMap((row) => Object.values(row)).filter(Boolean).length, 0, 'the cross-site grid is empty again');
    assert.match(html, /Cleared from your browser: .*lab_sid \(Path=\/sandbox\//);
    assert.match(html, /0 of 3 tasks/);

    // Redone as written, the lesson's first task solves again.
    await learner.write(sandboxId);
    assert.match(await learner.tasksHtml(), /1 of 3 tasks/);
  });

  it('before the lesson was ever opened: a 409 with what to do, not a crash', async () => {
    const res = await fetch(`${lab.baseUrl}/lessons/${SLUG}/reset`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /open the lesson page first/);
  });

  it('an unknown lesson is a 404', async () => {
    assert.equal((await fetch(`${lab.baseUrl}/lessons/no-such-lesson/reset`, { method: 'POST', headers: { accept: 'application/json' } })).status, 404);
  });

  it('no link can make the page claim a reset: the note comes from the site session, once', async () => {
    const learner = new Learner();
    await learner.openLesson();
    const { html } = await learner.openLesson('?reset=%3Cscript%3Ealert(1)%3C/script%3E');
    assert.doesNotMatch(html, /Lesson reset/);
    assert.doesNotMatch(html, /<script>alert/);
    // fetch answers on the headers, as a browser follows a 303: the store must hold the note by then.
    await fetch(`${lab.baseUrl}/lessons/${SLUG}/reset`, { method: 'POST', headers: { cookie: learner.site }, redirect: 'manual' });
    const sid = decodeURIComponent(learner.site.slice(learner.site.indexOf('=') + 1)).slice('s:'.length).split('.')[0];
    const stored = await lab.db.get<{ sess: string }>("SELECT sess FROM sessions WHERE namespace = 'site' AND sid = ?", [sid]);
    assert.match(stored?.sess ?? '', /"resetNote"/, 'saved before the redirect went out');
    assert.match((await learner.openLesson()).html, /Lesson reset/);
    assert.doesNotMatch((await learner.openLesson()).html, /Lesson reset/, 'shown once');
  });
});

describe('Clear my cookie', () => {
  it('sends an expired Set-Cookie for each name the sandbox used, host-only and for the Domain it used when that covers the host', async () => {
    const created = await fetch(`${lab.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'first' }) });
    const { id } = (await created.json()) as { id: string };
    const learner = new Learner();
    await learner.write(id);
    await fetch(`${lab.baseUrl}/api/sandboxes/${id}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '__Secure-second', cookie: { domain: '127.0.0.1' } }) });
    await learner.write(id);
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/clear-cookies`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const headers = res.headers.getSetCookie();
    assert.ok(headers.includes(`first=; Path=/sandbox/${id}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`), JSON.stringify(headers));
    assert.ok(headers.includes(`__Secure-second=; Path=/sandbox/${id}; Domain=127.0.0.1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure`), JSON.stringify(headers));
    const { cleared } = (await res.json()) as { cleared: string[] };
    assert.ok(cleared.includes(`first (Path=/sandbox/${id}, this host only)`), JSON.stringify(cleared));
    const exchanges = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${id}/exchanges`)).json()) as { exchanges: unknown[] };
    assert.equal(exchanges.exchanges.length, 2, 'clearing cookies is not an exchange: no session middleware ran');
  });

  it('for htmx: a fragment saying what was cleared, and an event for the panels that show the jar', async () => {
    const created = await fetch(`${lab.baseUrl}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { id } = (await created.json()) as { id: string };
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/clear-cookies`, { method: 'POST', headers: { 'hx-request': 'true' } });
    assert.equal(res.headers.get('hx-trigger'), 'sandbox-cookies');
    assert.match(await res.text(), /Sent an expired Set-Cookie for: mycookie/);
  });
});

describe('the progress page reset', () => {
  it('also puts each lesson sandbox back and clears its cookies', async () => {
    const learner = new Learner();
    const { sandboxId } = await learner.openLesson();
    await fetch(`${lab.baseUrl}/api/sandboxes/${sandboxId}/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed' }) });
    await learner.write(sandboxId);
    const res = await fetch(`${lab.baseUrl}/progress/reset`, { method: 'POST', headers: { cookie: learner.site }, redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.ok(res.headers.getSetCookie().includes(`renamed=; Path=/sandbox/${sandboxId}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`));
    const options = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${sandboxId}/options`)).json()) as { name: string };
    assert.equal(options.name, 'mycookie');
  });
});
