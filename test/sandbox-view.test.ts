// The sandbox panels are rendered once per change of a sandbox's options or exchanges and reused:
// a page must still always show the sandbox as it is now.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compileViews } from '../server/http/views.ts';
import { sandboxPanels, sandboxPanelsHtml } from '../server/sandbox/panels.ts';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox, updateOptions } from './support/http.ts';
import { write } from './support/sandbox.ts';

const views = compileViews(join(import.meta.dirname, '..', 'views'));

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

async function page(path: string): Promise<string> {
  const res = await fetch(`${lab.baseUrl}${path}`);
  assert.equal(res.status, 200);
  return res.text();
}

describe('sandbox panels kept between pages', () => {
  it('renders once for pages that show the same sandbox state, again after each change', async () => {
    const id = await createSandbox(lab.baseUrl);
    const sandbox = (await lab.registry.find(id))!;
    let renders = 0;
    const counting = (template: string, locals?: Record<string, unknown>) => (renders++, views(template, locals));
    const first = sandboxPanelsHtml(counting, sandbox);
    assert.equal(sandboxPanelsHtml(counting, sandbox), first);
    assert.equal(renders, 1);

    await write(new CookieClient(lab.baseUrl), id, 'user', 'ada');
    const afterWrite = sandboxPanelsHtml(counting, sandbox);
    assert.equal(renders, 2, 'a recorded exchange renders again');
    assert.notEqual(afterWrite, first);

    await updateOptions(lab.baseUrl, id, { name: 'renamed.sid' });
    sandboxPanelsHtml(counting, sandbox);
    assert.equal(renders, 3, 'an options change renders again');
  });

  it('a sandbox page shows options and exchanges as they are now, and the same as a fresh render', async () => {
    const id = await createSandbox(lab.baseUrl);
    assert.match(await page(`/sandbox/${id}`), /value="mycookie"/);
    await updateOptions(lab.baseUrl, id, { name: 'after.change' });
    assert.match(await page(`/sandbox/${id}`), /value="after.change"/);
    await write(new CookieClient(lab.baseUrl), id, 'favourite', 'shortbread');
    const html = await page(`/sandbox/${id}`);
    assert.match(html, /shortbread/);
    const sandbox = (await lab.registry.find(id))!;
    const fresh = views('partials/sandbox-panels', sandboxPanels(sandbox));
    assert.ok(html.includes(fresh), 'the page carries exactly what a fresh render gives');
  });
});
