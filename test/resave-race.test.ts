// The race `resave: true` invites: a slow request that changed nothing saves its stale copy of the
// session after a fast request wrote to it, and the write is lost. With `resave: false` the slow
// request only touches the session, and the write survives.
//
// No head start is guessed: the slow request is parked right after its store answered its `get`
// (parkAfterLoad), the fast write runs to the end, and only then does the slow request go on. The
// clock is moved by hand between the steps, so the recorded times are in different milliseconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from './support/lab.ts';
import { CookieClient, createSandbox } from './support/http.ts';
import { ops, parkAfterLoad, slow, visit, write } from './support/sandbox.ts';
import { withHandClock } from './support/clock.ts';

const SLOW_MS = 50;

let lab: Lab;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

async function race(options: { resave: boolean; store: 'memory' | 'database' }) {
  const id = await createSandbox(lab.baseUrl, options);
  const browser = new CookieClient(lab.baseUrl);
  await write(browser, id, 'before', 'kept');
  const { slowReply, fastWrite } = await withHandClock(async (clock) => {
    const parked = await parkAfterLoad(lab, id, () => slow(browser, id, SLOW_MS));
    assert.equal((parked.loaded as Record<string, unknown> | null)?.before, 'kept', 'the slow request loaded the session');
    clock.tick(1);
    const fastWrite = await write(browser, id, 'during', 'written');
    clock.tick(1);
    parked.release();
    return { slowReply: await parked.reply, fastWrite };
  });
  const check = await visit(browser, id);
  return { slowReply, fastWrite, check };
}

for (const store of ['memory', 'database'] as const) {
  describe(`the resave race (${store} store)`, () => {
    it('with resave true, a write made during a slow unmodified request is lost', async () => {
      const { slowReply, fastWrite, check } = await race({ resave: true, store });
      // The two requests really overlapped, and the slow one finished last.
      assert.ok(Date.parse(slowReply.exchange.startedAt) < Date.parse(fastWrite.exchange.startedAt));
      assert.ok(Date.parse(slowReply.exchange.finishedAt) > Date.parse(fastWrite.exchange.finishedAt));
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
      assert.ok(Date.parse(slowReply.exchange.finishedAt) > Date.parse(fastWrite.exchange.finishedAt));
      assert.deepEqual(ops(slowReply.exchange), ['get', 'touch']);
      const after = check.exchange.sessionAfter as Record<string, unknown> | null;
      assert.equal(after?.before, 'kept');
      assert.equal(after?.during, 'written', 'the write survived');
    });
  });
}
