// "Predict, then see": a prediction sent with a request is recorded beside what happened, counted
// for the lesson (never required), and a prediction that is not one of the choices is refused
// before the session is touched.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { createSandbox } from './support/http.ts';
import type { Exchange } from '../server/sandbox/model.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

const json = { accept: 'application/json', 'content-type': 'application/json' };

const sandbox = () => createSandbox(lab.baseUrl);

describe('predict, then see', () => {
  it('a right prediction (a new session written to: Set-Cookie and store.set) is judged right, part by part', async () => {
    const id = await sandbox();
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/write`, { method: 'POST', headers: json, body: JSON.stringify({ key: 'user', value: 'ada', predictCookie: 'sent', predictStore: 'set' }) });
    const exchange = (await res.json()) as Exchange;
    assert.deepEqual(exchange.prediction, { cookie: 'sent', store: 'set', cookieRight: true, storeRight: true, observed: { cookie: 'sent', store: 'set' } });
  });

  it('a wrong one (a visit that only touches, predicted as a new cookie) shows what did happen', async () => {
    const id = await sandbox();
    const first = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/write`, { method: 'POST', headers: json, body: JSON.stringify({ key: 'user', value: 'ada' }) })).json()) as Exchange;
    assert.equal(first.prediction, null, 'no prediction: nothing is judged');
    const cookie = first.setCookie[0]!.split(';')[0]!;
    const visit = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/visit?predictCookie=sent&predictStore=set`, { headers: { ...json, cookie } })).json()) as Exchange;
    assert.deepEqual(visit.prediction, { cookie: 'sent', store: 'set', cookieRight: false, storeRight: false, observed: { cookie: 'not-sent', store: 'touch' } });
  });

  it('one part only: the other is not judged', async () => {
    const id = await sandbox();
    const visit = (await (await fetch(`${lab.baseUrl}/sandbox/${id}/visit?predictStore=nothing`, { headers: json })).json()) as Exchange;
    assert.equal(visit.prediction?.cookieRight, null);
    assert.equal(visit.prediction?.storeRight, true);
  });

  it('a value that is not a choice is a 400 naming the field, and no exchange is recorded', async () => {
    const id = await sandbox();
    const res = await fetch(`${lab.baseUrl}/sandbox/${id}/visit?predictCookie=maybe`, { headers: json });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { field: string } }).error.field, 'predictCookie');
    const list = (await (await fetch(`${lab.baseUrl}/api/sandboxes/${id}/exchanges`)).json()) as { exchanges: unknown[] };
    assert.deepEqual(list.exchanges, []);
  });

  it('predictions are counted in the lesson\'s progress, and a lesson reset starts the count again', async () => {
    const page = await fetch(`${lab.baseUrl}/lessons/what-a-session-cookie-is`);
    const site = page.headers.getSetCookie().find((c) => c.startsWith('cookielab.sid='))!.split(';')[0]!;
    const id = /data-sandbox-path="\/sandbox\/([A-Za-z0-9_-]{22})"/.exec(await page.text())![1]!;
    await fetch(`${lab.baseUrl}/sandbox/${id}/write`, { method: 'POST', headers: json, body: JSON.stringify({ key: 'user', value: 'ada', predictCookie: 'sent' }) });
    await fetch(`${lab.baseUrl}/sandbox/${id}/visit?predictCookie=sent`, { headers: json });
    const tasks = await (await fetch(`${lab.baseUrl}/lessons/what-a-session-cookie-is/tasks`, { headers: { cookie: site } })).text();
    assert.match(tasks, /predictions: 1 of 2 right/);
    await fetch(`${lab.baseUrl}/lessons/what-a-session-cookie-is/reset`, { method: 'POST', headers: { cookie: site }, redirect: 'manual' });
    const after = await (await fetch(`${lab.baseUrl}/lessons/what-a-session-cookie-is/tasks`, { headers: { cookie: site } })).text();
    assert.doesNotMatch(after, /predictions:/);
  });
});
