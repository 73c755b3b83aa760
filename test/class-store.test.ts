// The classroom's data: join codes a class can read aloud, names cleaned once and unique within a
// class, a student who joins again is the same student, closed and full classes refuse, and only
// a hash of the teacher's token is stored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../server/db/database.ts';
import { ClassError, ClassStore } from '../server/classroom/class-store.ts';
import { CODE_ALPHABET, displayCode, newJoinCode, normalizeJoinCode, tokenHash } from '../server/classroom/join-code.ts';
import { MAX_NAME_LENGTH, NameError, cleanName, nameKey } from '../server/classroom/student-name.ts';

let db: Database;
let store: ClassStore;
before(async () => {
  db = await openDatabase(':memory:');
  store = new ClassStore(db);
});
after(() => db.close());

describe('join codes', () => {
  it('never use characters that read or look like another (0/O, 1/I/l, 2/Z, 5/S, 8/B)', () => {
    for (const ch of '0O1Il2Z5S8B') assert.ok(!CODE_ALPHABET.includes(ch), ch);
    for (let i = 0; i < 200; i++) assert.match(newJoinCode(), new RegExp(`^[${CODE_ALPHABET}]{6}$`));
  });

  it('read back whatever case, spaces and dashes the student typed, and refuse anything else', () => {
    const code = newJoinCode();
    assert.equal(normalizeJoinCode(displayCode(code).toLowerCase()), code);
    assert.equal(normalizeJoinCode(` ${code.slice(0, 3)} ${code.slice(3)} `), code);
    for (const bad of ['', 'ABC', 'ACDEFGH', 'AC0EFG', '<script>', null, 42, 'A'.repeat(10_000)]) assert.equal(normalizeJoinCode(bad), null, String(bad).slice(0, 20));
  });
});

describe('student names', () => {
  it('lose control and formatting characters (right-to-left overrides, zero-width) and extra spaces', () => {
    assert.equal(cleanName('  Ada\u202E evil\u200B \n\t Lovelace\u0000 '), 'Ada evil Lovelace');
  });

  it('are refused with a reason when empty, only control characters, or too long', () => {
    for (const bad of ['', '   ', '\u202E\u200B', undefined, 'x'.repeat(10_000), 'y'.repeat(MAX_NAME_LENGTH + 1)]) assert.throws(() => cleanName(bad), NameError);
    assert.equal(cleanName('é'.repeat(MAX_NAME_LENGTH)).length, MAX_NAME_LENGTH);
  });

  it('compare without case and compatibility forms', () => {
    assert.equal(nameKey('ADA'), nameKey('ada'));
    assert.equal(nameKey('Ａｄａ'), nameKey('ada'));
  });
});

describe('ClassStore', () => {
  it('keeps only the token hash, and finds the class by token and by code', async () => {
    const { record, token } = await store.create('Cookies 101', ['what-a-session-cookie-is']);
    const raw = await db.get<{ token_hash: string }>('SELECT token_hash FROM classes WHERE id = ?', [record.id]);
    assert.equal(raw?.token_hash, tokenHash(token));
    assert.notEqual(raw?.token_hash, token);
    assert.equal((await store.byToken(token))?.id, record.id);
    assert.equal((await store.byToken(token + 'x')), null);
    assert.equal((await store.byCode(record.code))?.id, record.id);
  });

  it('makes a learner who joins again the same student, and refuses a taken name in any case', async () => {
    const { record } = await store.create('Names', []);
    const first = await store.join(record.id, 'learner-a', 'Ada');
    assert.equal(first.created, true);
    const again = await store.join(record.id, 'learner-a', 'Someone else');
    assert.equal(again.created, false);
    assert.equal(again.student.studentId, first.student.studentId);
    assert.equal(again.student.name, 'Ada');
    await assert.rejects(store.join(record.id, 'learner-b', 'ADA'), (err: ClassError) => err.reason === 'name-taken');
    assert.deepEqual((await store.students(record.id)).map((s) => s.name), ['Ada']);
  });

  it('refuses joins to a closed class until it is reopened, and keeps its students', async () => {
    const { record } = await store.create('Closing', []);
    await store.join(record.id, 'learner-c', 'Cy');
    await store.close(record.id);
    await assert.rejects(store.join(record.id, 'learner-d', 'Di'), (err: ClassError) => err.reason === 'closed');
    assert.equal((await store.students(record.id)).length, 1);
    await store.reopen(record.id);
    assert.equal((await store.join(record.id, 'learner-d', 'Di')).created, true);
  });

  it('bumps the target sequence on every send, and the cached class shows it at once', async () => {
    const { record } = await store.create('Follow', ['a']);
    assert.equal((await store.byId(record.id))?.targetSeq, 0);
    await store.send(record.id, { lesson: 'a', task: 't' });
    await store.send(record.id, { lesson: 'a' });
    const now = await store.byId(record.id);
    assert.equal(now?.targetSeq, 2);
    assert.deepEqual(now?.target, { lesson: 'a' });
  });

  it('removes a student (the name is free again) and never touches another class', async () => {
    const one = (await store.create('One', [])).record;
    const two = (await store.create('Two', [])).record;
    const { student } = await store.join(one.id, 'learner-e', 'Eve');
    await store.join(two.id, 'learner-f', 'Eve');
    assert.equal(await store.remove(two.id, student.studentId), false, 'a student id from another class removes nobody');
    assert.equal(await store.remove(one.id, student.studentId), true);
    assert.equal((await store.students(one.id)).length, 0);
    assert.equal((await store.students(two.id)).length, 1);
    assert.equal((await store.join(one.id, 'learner-g', 'eve')).created, true);
  });

  it('records a failed check once per exchange and shows it only to the class of its student', async () => {
    const { record } = await store.create('Failures', ['l']);
    const other = (await store.create('Other', ['l'])).record;
    await store.join(record.id, 'learner-h', 'Hal');
    await store.join(other.id, 'learner-i', 'Ivy');
    const failure = { learnerId: 'learner-h', lesson: 'l', task: 't', sandboxId: 's', exchangeNumber: 3, detail: 'no Set-Cookie', at: 1 };
    await store.recordFailure(failure);
    await store.recordFailure({ ...failure, at: 2 });
    await store.recordFailure({ ...failure, learnerId: 'learner-i' });
    assert.deepEqual((await store.failures(record.id, 'l')).map((f) => [f.learnerId, f.exchangeNumber]), [['learner-h', 3]]);
  });
});
