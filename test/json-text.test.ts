// JSON from outside is read with every key as it was written, even where the runtime's own
// JSON.parse misreads escaped keys (nodejs/node#63785): directly, and through the app's body parser.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJsonText, JsonTextError } from '../server/http/json-text.ts';
import { startLab, type Lab } from './support/lab.ts';
import { createSandbox, send } from './support/http.ts';

/** Parses a "\\" key in objects shaped {"a":…,KEY:…}: afterwards V8 may decode {"a":…,"\t":…}'s key as "\\". */
function poisonNativeParser(): void {
  for (let i = 0; i < 3; i++) JSON.parse(String.raw`{"a":1,"\\":null,"b":2}`);
}

describe('parseJsonText', () => {
  it('reads an escaped one-character key as written after a "\\\\" key was parsed in an object of the same shape', () => {
    for (const key of ['\t', '\n', '"', '\u0001', '/']) {
      poisonNativeParser();
      const text = `{"a":1,${JSON.stringify(key)}:[1],"c":2}`;
      assert.deepEqual(Object.keys(parseJsonText(text) as object), ['a', key, 'c'], `key ${JSON.stringify(key)}`);
    }
  });

  it('gives back any JSON value it is handed as text, keys with escapes included', () => {
    const keys = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('\\', '\t', '\n', '"', '__proto__', '\u2028', '😀'));
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 0 }), fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(keys, tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        poisonNativeParser();
        const text = JSON.stringify(v);
        // JSON.stringify is not affected: written back, the value must give the very same text.
        assert.equal(JSON.stringify(parseJsonText(text)), text);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses exactly the texts JSON.parse refuses', () => {
    const jsonish = fc.string({ unit: fc.constantFrom(...'{}[]":,\\ntrufalse0123456789.-+eE u\t'.split('')), maxLength: 24 });
    fc.assert(
      fc.property(fc.oneof(jsonish, fc.string({ maxLength: 12 })), (text) => {
        let nativeOk = true;
        try {
          JSON.parse(text);
        } catch {
          nativeOk = false;
        }
        let ours = true;
        try {
          parseJsonText(text);
        } catch (err) {
          assert.ok(err instanceof JsonTextError, 'a refusal is a JsonTextError');
          ours = false;
        }
        assert.equal(ours, nativeOk, `for ${JSON.stringify(text)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps "__proto__" as an own key, never as the prototype', () => {
    const parsed = parseJsonText(String.raw`{"__proto__":{"polluted":"\u0079es"}}`) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.deepEqual(Object.keys(parsed), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses nesting deeper than a request body could need, with a JsonTextError rather than a stack overflow', () => {
    assert.throws(() => parseJsonText('['.repeat(100_000) + '"\\n"' + ']'.repeat(100_000)), JsonTextError);
  });
});

describe('a JSON request body with escaped keys', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(() => lab.stop());

  it('names the unknown option as the learner wrote it (PUT /api/sandboxes/:id/options)', async () => {
    const id = await createSandbox(lab.baseUrl, {});
    const put = (text: string) => send(lab.baseUrl, `/api/sandboxes/${id}/options`, { method: 'PUT', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: text });
    // The same shape with a "\\" key first, as the fuzz test that found this sent them.
    assert.equal(((await put(String.raw`{"name":"a","\\":null}`)).json as { error: { field: string } }).error.field, '\\');
    const answer = await put(String.raw`{"name":"a","\t":null}`);
    assert.equal(answer.status, 400);
    assert.equal((answer.json as { error: { field: string } }).error.field, '\t');
  });

  it('still answers 400 "not valid JSON" for a broken body with a backslash', async () => {
    const answer = await send(lab.baseUrl, '/api/sandboxes', { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: '{"name":"\\q"}' });
    assert.equal(answer.status, 400);
    assert.match((answer.json as { error: { message: string } }).error.message, /not valid JSON/);
  });

  /** A body in bytes, as a client sends it in a charset of its choosing. */
  const sendBytes = async (bytes: Uint8Array, charset: string) => {
    const res = await fetch(`${lab.baseUrl}/api/sandboxes`, { method: 'POST', headers: { accept: 'application/json', 'content-type': `application/json; charset=${charset}` }, body: Uint8Array.from(bytes) });
    return { status: res.status, json: (await res.json()) as { error?: { message: string; field?: string } } };
  };
  const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

  it('reads a UTF-16 body without a byte order mark as express.json does (it guesses big-endian here), escaped keys included', async () => {
    poisonNativeParser();
    const answer = await sendBytes(utf16be(String.raw`{"name":"a","\t":null}`), 'utf-16');
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error?.field, "\t", JSON.stringify(answer.json));
  });

  it('reads a body whose backslash is half a UTF-16 character as express.json does, never a 500 (the fuzz counterexample)', async () => {
    // express.json decodes the lone byte to nothing, an empty body: the article's options.
    const answer = await sendBytes(Buffer.from('\\'), 'utf-16');
    assert.equal(answer.status, 201, JSON.stringify(answer.json));
  });

  it('reads a UTF-7 body whose escaped key has no backslash byte ("+AFw-") as written', async () => {
    poisonNativeParser();
    const answer = await sendBytes(Buffer.from('{"name":"a","+AFw-t":null}'), 'utf-7');
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error?.field, '\t', JSON.stringify(answer.json));
  });

  it('answers 400 "not valid JSON", never a 500, for a body express.json accepts but the strict reader refuses (nested past its depth)', async () => {
    const deep = '['.repeat(600) + '"\\n"' + ']'.repeat(600);
    const answer = await send(lab.baseUrl, '/api/sandboxes', { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: deep });
    assert.equal(answer.status, 400);
    assert.match((answer.json as { error: { message: string } }).error.message, /not valid JSON/);
  });
});
