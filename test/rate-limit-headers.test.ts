// Sandbox answers carry the IETF draft's RateLimit headers, counted per sandbox by express-rate-limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { createSandbox } from './support/http.ts';

let lab: Lab;
before(async () => (lab = await startLab({ limits: { sandboxRequestsPerMinute: 5 } })));
after(() => lab.stop());

describe('RateLimit headers on sandbox answers', () => {
  it('each answer says how many requests this sandbox has left, per sandbox; past the limit a 429 with Retry-After', async () => {
    const [a, b] = [await createSandbox(lab.baseUrl, {}), await createSandbox(lab.baseUrl, {})];
    const visit = (id: string) => fetch(`${lab.baseUrl}/sandbox/${id}/visit`, { headers: { accept: 'application/json' } });
    const first = await visit(a);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('ratelimit-policy') ?? '', /"sandbox"; q=5; w=60/);
    assert.match(first.headers.get('ratelimit') ?? '', /"sandbox"; r=4; t=\d+/);
    for (let i = 0; i < 4; i++) assert.equal((await visit(a)).status, 200);
    const refused = await visit(a);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    const other = await visit(b);
    assert.equal(other.status, 200, 'another sandbox is counted on its own');
    assert.match(other.headers.get('ratelimit') ?? '', /r=4/);
  });
});
