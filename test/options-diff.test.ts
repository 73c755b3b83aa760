// Each exchange records the options it ran with and what changed since the exchange before it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, updateOptions } from './support/http.ts';
import { visit as visitAs } from './support/sandbox.ts';

let lab: Lab;
before(async () => (lab = await startLab()));
after(() => lab.stop());

describe('the options an exchange ran with', () => {
  it('the first exchange has nothing to compare with; a later one lists exactly the fields changed in between', async () => {
    const id = await createSandbox(lab.baseUrl);
    // Each visit from a browser with no cookie, as a plain fetch would be.
    const visit = async () => (await visitAs(new CookieClient(lab.baseUrl), id)).exchange;
    const first = await visit();
    assert.equal(first.optionsChanged, null);
    assert.equal(first.options.name, 'mycookie');
    await updateOptions(lab.baseUrl, id, { name: 'lab_sid', cookie: { sameSite: 'lax' } });
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
