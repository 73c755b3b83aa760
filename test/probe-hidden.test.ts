// Lesson 4's "hidden by default" needs a cookie the browser holds and page JavaScript cannot see:
// a browser that holds none (it cleared the cookie) shows an empty document.cookie too, and that
// must not pass for HttpOnly at work. The probe reading records which cookies came with it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

const SLUG = 'httponly';

async function learnerOn(slug: string): Promise<{ site: string; id: string }> {
  const page = await fetch(`${lab.baseUrl}/lessons/${slug}`);
  assert.equal(page.status, 200);
  const site = page.headers.getSetCookie().find((c) => c.startsWith('cookielab.sid='))!.split(';')[0]!;
  const id = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(await page.text())![1]!;
  return { site, id };
}

async function taskCard(site: string, task: string): Promise<string> {
  const html = await (await fetch(`${lab.baseUrl}/lessons/${SLUG}/tasks`, { headers: { cookie: site } })).text();
  const start = html.indexOf(`id="task-${task}"`);
  assert.ok(start !== -1, `task ${task} on the page`);
  return html.slice(start, html.indexOf('</li>', start));
}

describe('a probe reading with no cookie behind it', () => {
  it('after Clear my cookie: document.cookie is empty, but the task stays open and says the browser holds no cookie', async () => {
    const { site, id } = await learnerOn(SLUG);
    const write = await fetch(`${lab.baseUrl}/sandbox/${id}/write`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ key: 'user', value: 'ada' }) });
    const cookie = write.headers.getSetCookie()[0]!.split(';')[0]!;
    await fetch(`${lab.baseUrl}/sandbox/${id}/clear-cookies`, { method: 'POST', headers: { accept: 'application/json', cookie } });
    // The browser, with no cookie left, reads document.cookie: empty.
    await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', 'x-document-cookie': '' } });
    const card = await taskCard(site, 'hidden-by-default');
    assert.match(card, /\(not solved yet\)/);
    assert.match(card, /holds no &quot;mycookie&quot; cookie at all/);
  });

  it('the same reading while the browser holds the HttpOnly cookie: solved', async () => {
    const { site, id } = await learnerOn(SLUG);
    const write = await fetch(`${lab.baseUrl}/sandbox/${id}/write`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ key: 'user', value: 'ada' }) });
    const cookie = write.headers.getSetCookie()[0]!.split(';')[0]!;
    await fetch(`${lab.baseUrl}/sandbox/${id}/jar`, { headers: { accept: 'application/json', 'x-document-cookie': '', cookie } });
    assert.match(await taskCard(site, 'hidden-by-default'), /\(solved\)/);
  });
});
