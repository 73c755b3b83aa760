// The race `resave: true` invites: a slow request that changed nothing saves its stale copy of the
// session after a fast request wrote to it, and the write is lost. With `resave: false` the slow
// request only touches the session, and the write survives.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CookieClient, createSandbox, ops, slow, startLab, visit, write, type RunningLab } from './helpers.ts';

const SLOW_MS = 400;
/** Long enough for the slow request to have loaded the session; well inside its sleep. */
const HEAD_START_MS = 120;

let lab: RunningLab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

async function race(options: { resave: boolean; store: 'memory' | 'sqlite' }) {
  const id = await createSandbox(lab.baseUrl, options);
  const browser = new CookieClient(lab.baseUrl);
  await write(browser, id, 'before', 'kept');
  const slowRequest = slow(browser, id, SLOW_MS);
  await sleep(HEAD_START_MS);
  const fastWrite = await write(browser, id, 'during', 'written');
  const slowReply = await slowRequest;
  const check = await visit(browser, id);
  return { slowReply, fastWrite, check };
}

for (const store of ['memory', 'sqlite'] as const) {
  describe(`the resave race (${store} store)`, () => {
    it('with resave true, a write made during a slow unmodified request is lost', async () => {
      const { slowReply, fastWrite, check } = await race({ resave: true, store });
      // The two requests really overlapped, and the slow one finished last.
      assert.ok(Date.parse(slowReply.exchange.startedAt) < Date.parse(fastWrite.exchange.startedAt));
      assert.ok(Date.parse(slowReply.exchange.finishedAt) >= Date.parse(fastWrite.exchange.finishedAt));
      assert.equal((fastWrite.exchange.sessionAfter as Record<string, unknown> | null)?.during, 'written', 'the write was saved at first');
      // The slow request loaded the session before the write and saved that copy back.
      assert.equal((slowReply.exchange.sessionBefore as Record<string, unknown> | null)?.during, undefined);
      assert.deepEqual(ops(slowReply.exchange), ['get', 'set']);
      assert.match(slowReply.exchange.whyStore, /resave is on.*a parallel request's write can be overwritten/);
      const after = check.exchange.sessionAfter as Record<string, unknown> | null;
      assert.equal(after?.before, 'kept');
      assert.equal(after?.during, undefined, 'the write was LOST: overwritten by the slow request\'s stale copy');
      assert.equal(check.exchange.sessionId, fastWrite.exchange.sessionId, 'same session all along');
    });

    it('with resave false, the write survives: the slow request only touches the session', async () => {
      const { slowReply, fastWrite, check } = await race({ resave: false, store });
      assert.ok(Date.parse(slowReply.exchange.startedAt) < Date.parse(fastWrite.exchange.startedAt));
      assert.deepEqual(ops(slowReply.exchange), ['get', 'touch']);
      const after = check.exchange.sessionAfter as Record<string, unknown> | null;
      assert.equal(after?.before, 'kept');
      assert.equal(after?.during, 'written', 'the write survived');
    });
  });
}
