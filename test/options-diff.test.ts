// Each exchange records the options it ran with and what changed since the exchange before it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import type { Exchange } from '../server/sandbox/model.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

const json = { accept: 'application/json', 'content-type': 'application/json' };

describe('the options an exchange ran with', () => {
  it('the first exchange has nothing to compare with; a later one lists exactly the fields changed in between', async () => {
    const { id } = (await (await fetch(`${lab.baseUrl}/api/sandboxes`, { method: 'POST', headers: json, body: '{}' })).json()) as { id: string };
    const visit = () => fetch(`${lab.baseUrl}/sandbox/${id}/visit`, { headers: json }).then((res) => res.json() as Promise<Exchange>);
    const first = await visit();
    assert.equal(first.optionsChanged, null);
    assert.equal(first.options.name, 'mycookie');
    await fetch(`${lab.baseUrl}/api/sandboxes/${id}/options`, { method: 'PUT', headers: json, body: JSON.stringify({ name: 'lab_sid', cookie: { sameSite: 'lax' } }) });
    const second = await visit();
    assert.equal(second.options.name, 'lab_sid');
    assert.deepEqual(second.optionsChanged, {
      since: first.number,
      changes: [
        { field: 'name', from: 'mycookie', to: 'lab_sid' },
        { field: 'cookie.sameSite', from: false, to: 'lax' },
      ],
    });
    const third = await visit();
    assert.deepEqual(third.optionsChanged, { since: second.number, changes: [] });
  });
});
