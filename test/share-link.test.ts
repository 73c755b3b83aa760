// Share links (server/sandbox/share-link.ts, server/routes/share.ts): a link carries a sandbox's
// options, never its secret; reading one back gives the same options; whoever opens it gets a new
// sandbox of their own; a bad link gets its errors by field and a 400, never a 500, and a bad task
// name is a clear 404.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseQuery } from 'node:querystring';
import { readShareQuery, shareQuery } from '../server/sandbox/share-link.ts';
import { articleOptions, validateOptions, type SandboxOptions } from '../server/sandbox/options.ts';
import { startLab, type Lab } from './support/lab.ts';
import { createSandbox, readExchanges, readOptions, send, updateOptions } from './support/http.ts';

const configured: SandboxOptions = validateOptions({
  ...articleOptions,
  name: 'class_sid',
  secret: ['teacher-only-secret-42'],
  rolling: true,
  cookie: { ...articleOptions.cookie, httpOnly: false, sameSite: 'strict', maxAge: 60_000, domain: 'lab.test' },
});

describe('a share link, as data', () => {
  it('names only what differs from the article, in the form\'s field names, and never the secret', () => {
    assert.equal(shareQuery(articleOptions), '');
    const query = shareQuery(configured);
    assert.doesNotMatch(query, /secret|teacher-only/);
    assert.deepEqual(Object.keys(parseQuery(query)).sort(), ['domain', 'httpOnly', 'maxAge', 'name', 'rolling', 'sameSite']);
  });

  it('read back, gives the same options (the secret: the article\'s)', () => {
    const read = readShareQuery(parseQuery(shareQuery(configured)));
    assert.deepEqual(read.errors, []);
    assert.deepEqual(read.options, { ...configured, secret: articleOptions.secret });
  });

  it('refuses each bad field with its own message and keeps the good ones', () => {
    const read = readShareQuery(parseQuery('name=has%20space&maxAge=soon&rolling=maybe&sameSite=lax&secret=x&colour=red&domain=a.test&domain=b.test&saveUninitialized=' + 'd'.repeat(400)));
    const byField = new Map(read.errors.map((e) => [e.field, e.message]));
    assert.match(byField.get('name')!, /name may use only letters/);
    assert.match(byField.get('cookie.maxAge')!, /whole number/);
    assert.match(byField.get('rolling')!, /true or false/);
    assert.match(byField.get('secret')!, /never carries the secret in its query string/);
    assert.match(byField.get('colour')!, /unknown option "colour"/);
    assert.match(byField.get('domain')!, /more than once/);
    assert.match(byField.get('saveUninitialized')!, /400 characters long/);
    assert.equal(read.options.cookie.sameSite, 'lax', 'the valid field is applied');
    assert.equal(read.options.name, articleOptions.name);
    assert.equal(read.values.name, 'has space', 'the form shows what the link said, to fix it there');
  });
});

describe('opening a share link over HTTP', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ limits: { sandboxesPerMinute: 1e6 } });
  });
  after(() => lab.stop());

  it('gives a new sandbox with the link\'s options, and none of the sender\'s sessions', async () => {
    const sender = await createSandbox(lab.baseUrl, {});
    await updateOptions(lab.baseUrl, sender, configured);
    await send(lab.baseUrl, `/sandbox/${sender}/write`, { method: 'POST', headers: { accept: 'application/json' }, json: { key: 'k', value: 'v' } });
    const link = shareQuery(await readOptions(lab.baseUrl, sender));
    const answer = await send(lab.baseUrl, `/lab?${link}`);
    assert.equal(answer.status, 303);
    const opened = answer.headers.get('location')!.match(/^\/sandbox\/([A-Za-z0-9_-]+)$/)![1]!;
    assert.notEqual(opened, sender);
    assert.deepEqual(await readOptions(lab.baseUrl, opened), { ...configured, secret: articleOptions.secret });
    assert.deepEqual(await readExchanges(lab.baseUrl, opened), []);
  });

  it('keeps a named task and presenter mode over the redirect', async () => {
    const answer = await send(lab.baseUrl, '/lab?name=x_sid&lesson=secure&task=no-cookie-over-http&present=1');
    assert.equal(answer.status, 303);
    const location = new URL(answer.headers.get('location')!, lab.baseUrl);
    assert.deepEqual(Object.fromEntries(location.searchParams), { lesson: 'secure', task: 'no-cookie-over-http', present: '1' });
    const page = await send(lab.baseUrl, location.pathname + location.search);
    assert.equal(page.status, 200);
    assert.match(page.text, /A task from lesson 5/);
  });

  it('a bad link: 400, its page with every error, markup escaped; never a 500', async () => {
    for (const query of ['name=%3Cscript%3Ealert(1)%3C%2Fscript%3E', 'maxAge=-5&sameSite=sideways', 'secret=abc', 'lesson=nope&task=x', 'lesson=secure', 'task=a&task=b&lesson=secure', '%E0%A4%A=1', 'name[a]=1']) {
      const answer = await send(lab.baseUrl, `/lab?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.status} ${answer.text.slice(0, 200)}`);
      assert.match(answer.text, /This link&#39;s options were not all applied|This link's options were not all applied/, query);
      assert.doesNotMatch(answer.text, /<script>alert/, query);
    }
  });

  it('a sandbox page naming a task that does not exist is a 404 that says where the sandbox is', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const answer = await send(lab.baseUrl, `/sandbox/${id}?lesson=secure&task=nope`, { headers: { accept: 'text/html' } });
    assert.equal(answer.status, 404);
    assert.match(answer.text, /has no task &quot;nope&quot;|has no task "nope"/);
    assert.match(answer.text, new RegExp(`/sandbox/${id}`));
  });
});
