// Classes, their students, and the failed checks a dashboard groups: the classroom's data, through
// the same database as the rest of the lab (so several processes on one file see one class).
// A student is a learner (the site session's learnerId) with a name in one class; their progress
// stays the learner's own (ProgressStore), and the class only reads it.
// Long because it is the classroom's one repository: every query on classes and students lives here.
import type { Database } from '../db/database.ts';
import { isUniqueViolation } from '../db/connection.ts';
import { RowCache } from '../db/row-cache.ts';
import { newId, newJoinCode, newTeacherToken, tokenHash } from './join-code.ts';
import { nameKey } from './student-name.ts';

/** Where the teacher sent the class: a lesson, optionally one of its tasks and a sandbox preset. */
export interface ClassTarget {
  lesson: string;
  task?: string;
  /** Sandbox options to apply (validated by the route that takes them). */
  preset?: Record<string, unknown>;
}

/** A student's exchange the teacher put on the projector, with the student's consent. */
export interface ProjectedExchange {
  studentId: string;
  sandboxId: string;
  exchangeNumber: number;
}

export interface ClassRecord {
  readonly id: string;
  readonly code: string;
  readonly title: string;
  readonly lessons: readonly string[];
  readonly createdAt: number;
  readonly closedAt: number | null;
  readonly target: ClassTarget | null;
  /** Bumped by every "send the class there": a follower moves when it sees a higher one. */
  readonly targetSeq: number;
  readonly message: string | null;
  readonly messageAt: number | null;
  readonly showBars: boolean;
  readonly projected: ProjectedExchange | null;
}

export interface StudentRecord {
  readonly classId: string;
  readonly studentId: string;
  readonly learnerId: string;
  readonly name: string;
  readonly joinedAt: number;
  readonly lastActiveAt: number;
  readonly following: boolean;
  readonly shareConsent: boolean;
}

export interface CheckFailure {
  learnerId: string;
  lesson: string;
  task: string;
  sandboxId: string;
  exchangeNumber: number;
  detail: string;
  at: number;
}

/** The class's students' solved tasks and hints (ClassStore.results), keyed by student id. */
export interface ClassResults {
  solved: { studentId: string; lesson: string; task: string; solvedAt: number }[];
  hints: { studentId: string; lesson: string; task: string; count: number }[];
}

export class ClassError extends Error {
  constructor(
    readonly reason: 'closed' | 'name-taken' | 'full' | 'no-class',
    message: string,
  ) {
    super(message);
  }
}

/** Beyond this a class is refused new students: a dashboard of more is no longer one screen. */
export const MAX_STUDENTS = 300;
/** A student's last activity is written at most this often (each of their requests could). */
const ACTIVITY_WRITE_MS = 15_000;

type ClassRow = {
  id: string;
  code: string;
  title: string;
  lessons: string;
  created_at: number;
  closed_at: number | null;
  target: string | null;
  target_seq: number;
  message: string | null;
  message_at: number | null;
  show_bars: number;
  projected: string | null;
};

type StudentRow = {
  class_id: string;
  student_id: string;
  learner_id: string;
  name: string;
  joined_at: number;
  last_active_at: number;
  following: number;
  share_consent: number;
};

const CLASS_COLUMNS = 'id, code, title, lessons, created_at, closed_at, target, target_seq, message, message_at, show_bars, projected';
const STUDENT_COLUMNS = 'class_id, student_id, learner_id, name, joined_at, last_active_at, following, share_consent';

export class ClassStore {
  /** Every student's page polls its class: read once, kept while nobody changes it (other processes within a second). */
  private readonly classes: RowCache<ClassRecord | null>;
  /** The class a learner is in, asked by every lesson request of a student. */
  private readonly memberships: RowCache<StudentRecord | null>;
  private readonly activityWritten = new Map<string, number>();
  /** The join in progress per class (see join). */
  private readonly joining = new Map<string, Promise<unknown>>();

  constructor(private readonly db: Database) {
    this.classes = new RowCache(db.changes('classes'));
    this.memberships = new RowCache(db.changes('class_students'));
  }

  /** A new class; the token is returned once and only its hash is stored. */
  async create(title: string, lessons: readonly string[], now = Date.now()): Promise<{ record: ClassRecord; token: string }> {
    const token = newTeacherToken();
    for (let attempt = 0; ; attempt++) {
      const id = newId();
      const code = newJoinCode();
      try {
        await this.db.run('INSERT INTO classes (id, code, token_hash, title, lessons, created_at) VALUES (?, ?, ?, ?, ?, ?)', [id, code, tokenHash(token), title, JSON.stringify(lessons), now]);
        return { record: (await this.byId(id))!, token };
      } catch (err) {
        // 25^6 codes: a clash is rare, and only ever on the code; try another.
        if (attempt < 5 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  byId(id: string): Promise<ClassRecord | null> {
    return this.classes.get(id, async () => classRecord(await this.db.get<ClassRow>(`SELECT ${CLASS_COLUMNS} FROM classes WHERE id = ?`, [id])));
  }

  async byToken(token: string): Promise<ClassRecord | null> {
    return classRecord(await this.db.get<ClassRow>(`SELECT ${CLASS_COLUMNS} FROM classes WHERE token_hash = ?`, [tokenHash(token)]));
  }

  async byCode(code: string): Promise<ClassRecord | null> {
    return classRecord(await this.db.get<ClassRow>(`SELECT ${CLASS_COLUMNS} FROM classes WHERE code = ?`, [code]));
  }

  private change(classId: string, sql: string, params: unknown[]): Promise<{ changes: number }> {
    return this.classes.writing(classId, () => this.db.run(sql, params as never));
  }

  close(classId: string, now = Date.now()) {
    return this.change(classId, 'UPDATE classes SET closed_at = coalesce(closed_at, ?) WHERE id = ?', [now, classId]);
  }

  reopen(classId: string) {
    return this.change(classId, 'UPDATE classes SET closed_at = NULL WHERE id = ?', [classId]);
  }

  /** Sends the class to a place: followers move when they see the new sequence number. */
  send(classId: string, target: ClassTarget) {
    return this.change(classId, 'UPDATE classes SET target = ?, target_seq = target_seq + 1 WHERE id = ?', [JSON.stringify(target), classId]);
  }

  setMessage(classId: string, message: string | null, now = Date.now()) {
    return this.change(classId, 'UPDATE classes SET message = ?, message_at = ? WHERE id = ?', [message, message === null ? null : now, classId]);
  }

  setShowBars(classId: string, show: boolean) {
    return this.change(classId, 'UPDATE classes SET show_bars = ? WHERE id = ?', [show ? 1 : 0, classId]);
  }

  setProjected(classId: string, projected: ProjectedExchange | null) {
    return this.change(classId, 'UPDATE classes SET projected = ? WHERE id = ?', [projected ? JSON.stringify(projected) : null, classId]);
  }

  /**
   * Puts a learner in a class under a name. The same learner joining again is the same student
   * (their name stays, `created` is false). Refused when the class is closed or full, or the
   * name (ignoring case) is another student's.
   */
  join(classId: string, learnerId: string, name: string, now = Date.now()): Promise<{ student: StudentRecord; created: boolean }> {
    // One join per class at a time in this process, so the count below is exact here: PostgreSQL
    // reads the count in the insert from a snapshot, so two joins at once could both see a free seat.
    // (Several instances on one database may still let one or two past the limit; SQLite, whose
    // writes are serialized, never does.)
    const previous = this.joining.get(classId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.joinNow(classId, learnerId, name, now));
    const settled = next.catch(() => {});
    this.joining.set(classId, settled);
    void settled.then(() => {
      if (this.joining.get(classId) === settled) this.joining.delete(classId);
    });
    return next;
  }

  private async joinNow(classId: string, learnerId: string, name: string, now: number): Promise<{ student: StudentRecord; created: boolean }> {
    const record = await this.byId(classId);
    if (!record) throw new ClassError('no-class', 'there is no such class');
    if (record.closedAt !== null) throw new ClassError('closed', `the class "${record.title}" has ended; ask your teacher for a new code`);
    const existing = await this.studentByLearner(classId, learnerId);
    if (existing) return { student: existing, created: false };
    const full = () => new ClassError('full', `the class "${record.title}" is full (${MAX_STUDENTS} students); ask your teacher`);
    const count = await this.db.get<{ n: number }>('SELECT count(*) AS n FROM class_students WHERE class_id = ?', [classId]);
    if (Number(count?.n ?? 0) >= MAX_STUDENTS) throw full();
    // The count is checked again in the insert itself: joins arriving together (a class told
    // "go!") must not slip past the limit between the check above and the write.
    const { changes } = await this.memberships.writing(learnerId, () =>
      this.db.run(
        `INSERT INTO class_students (class_id, student_id, learner_id, name, name_key, joined_at, last_active_at)
         SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM class_students WHERE class_id = ?) < ?
         ON CONFLICT DO NOTHING`,
        [classId, newId(), learnerId, name, nameKey(name), now, now, classId, MAX_STUDENTS],
      ),
    );
    const student = await this.studentByLearner(classId, learnerId);
    if (student) return { student, created: changes > 0 };
    const taken = await this.db.get<{ n: number }>('SELECT count(*) AS n FROM class_students WHERE class_id = ? AND name_key = ?', [classId, nameKey(name)]);
    if (Number(taken?.n ?? 0) > 0) throw new ClassError('name-taken', `"${name}" is already taken in this class; choose another name`);
    throw full();
  }

  private async studentByLearner(classId: string, learnerId: string): Promise<StudentRecord | null> {
    return studentRecord(await this.db.get<StudentRow>(`SELECT ${STUDENT_COLUMNS} FROM class_students WHERE class_id = ? AND learner_id = ?`, [classId, learnerId]));
  }

  /** The learner's student record in a class (the newest class they joined), if any. */
  membership(learnerId: string): Promise<StudentRecord | null> {
    return this.memberships.get(learnerId, async () =>
      studentRecord(await this.db.get<StudentRow>(`SELECT ${STUDENT_COLUMNS} FROM class_students WHERE learner_id = ? ORDER BY joined_at DESC LIMIT 1`, [learnerId])),
    );
  }

  async student(classId: string, studentId: string): Promise<StudentRecord | null> {
    return studentRecord(await this.db.get<StudentRow>(`SELECT ${STUDENT_COLUMNS} FROM class_students WHERE class_id = ? AND student_id = ?`, [classId, studentId]));
  }

  /** Every student, in the order they joined: a dashboard shows them all, never a top-N. */
  async students(classId: string): Promise<StudentRecord[]> {
    const rows = await this.db.all<StudentRow>(`SELECT ${STUDENT_COLUMNS} FROM class_students WHERE class_id = ? ORDER BY joined_at, name_key`, [classId]);
    return rows.map((row) => studentRecord(row)!);
  }

  /** The teacher removes a student: their membership goes, their own progress stays theirs. */
  async remove(classId: string, studentId: string): Promise<boolean> {
    const student = await this.student(classId, studentId);
    if (!student) return false;
    const { changes } = await this.memberships.writing(student.learnerId, () => this.db.run('DELETE FROM class_students WHERE class_id = ? AND student_id = ?', [classId, studentId]));
    return changes > 0;
  }

  async setFollowing(classId: string, learnerId: string, following: boolean): Promise<void> {
    await this.memberships.writing(learnerId, () => this.db.run('UPDATE class_students SET following = ? WHERE class_id = ? AND learner_id = ?', [following ? 1 : 0, classId, learnerId]));
  }

  async setShareConsent(classId: string, learnerId: string, consent: boolean): Promise<void> {
    await this.memberships.writing(learnerId, () => this.db.run('UPDATE class_students SET share_consent = ? WHERE class_id = ? AND learner_id = ?', [consent ? 1 : 0, classId, learnerId]));
  }

  /** Notes that a student did something; written at most every 15 s per student. */
  async touch(student: StudentRecord, now = Date.now()): Promise<void> {
    const key = `${student.classId}\n${student.studentId}`;
    if (now - (this.activityWritten.get(key) ?? student.lastActiveAt) < ACTIVITY_WRITE_MS) return;
    this.activityWritten.set(key, now);
    if (this.activityWritten.size > 20_000) this.activityWritten.clear();
    // Not through the membership cache: a slightly old lastActiveAt there is harmless, and
    // invalidating it on every touch would re-read it on the next request.
    await this.db.run('UPDATE class_students SET last_active_at = ? WHERE class_id = ? AND student_id = ? AND last_active_at < ?', [now, student.classId, student.studentId, now]);
  }

  /** A check that did not pass after an exchange, once per exchange (a refresh of the same one adds nothing). */
  async recordFailure(failure: CheckFailure): Promise<void> {
    await this.db.run(
      `INSERT INTO check_failures (learner_id, lesson, task, sandbox_id, exchange_number, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [failure.learnerId, failure.lesson, failure.task, failure.sandboxId, failure.exchangeNumber, failure.detail, failure.at],
    );
  }

  /**
   * Every failed check of the class's students in a lesson, oldest first: only those since the
   * student last reset the lesson or all their progress (whoever reset it, they start afresh).
   */
  async failures(classId: string, lesson: string): Promise<CheckFailure[]> {
    const rows = await this.db.all<{ learner_id: string; lesson: string; task: string; sandbox_id: string; exchange_number: number; detail: string; at: number }>(
      `SELECT f.learner_id, f.lesson, f.task, f.sandbox_id, f.exchange_number, f.detail, f.at
         FROM check_failures f JOIN class_students s ON s.learner_id = f.learner_id
         LEFT JOIN lesson_resets lr ON lr.learner_id = f.learner_id AND lr.lesson = f.lesson
         LEFT JOIN progress_resets pr ON pr.learner_id = f.learner_id
        WHERE s.class_id = ? AND f.lesson = ? AND f.at > coalesce(lr.reset_at, -1) AND f.at > coalesce(pr.reset_at, -1)
        ORDER BY f.at`,
      [classId, lesson],
    );
    return rows.map((r) => ({ learnerId: r.learner_id, lesson: r.lesson, task: r.task, sandboxId: r.sandbox_id, exchangeNumber: r.exchange_number, detail: r.detail, at: r.at }));
  }

  /**
   * What the class's students did in the class's lessons, for the export: each solved task with
   * when, and each task's hints shown. Progress is the learner's own (ProgressStore writes it);
   * the class only reads it, through its membership.
   */
  async results(classId: string): Promise<ClassResults> {
    const [solved, hints] = await Promise.all([
      this.db.all<{ student_id: string; lesson: string; task: string; solved_at: number }>(
        `SELECT s.student_id, t.lesson, t.task, t.solved_at
           FROM class_students s JOIN solved_tasks t ON t.learner_id = s.learner_id
          WHERE s.class_id = ?`,
        [classId],
      ),
      this.db.all<{ student_id: string; lesson: string; task: string; count: number }>(
        `SELECT s.student_id, h.lesson, h.task, h.count
           FROM class_students s JOIN hints_shown h ON h.learner_id = s.learner_id
          WHERE s.class_id = ?`,
        [classId],
      ),
    ]);
    return {
      solved: solved.map((r) => ({ studentId: r.student_id, lesson: r.lesson, task: r.task, solvedAt: Number(r.solved_at) })),
      hints: hints.map((r) => ({ studentId: r.student_id, lesson: r.lesson, task: r.task, count: Number(r.count) })),
    };
  }

}

function classRecord(row: ClassRow | undefined): ClassRecord | null {
  if (!row) return null;
  return {
    id: row.id,
    code: row.code,
    title: row.title,
    lessons: JSON.parse(row.lessons) as string[],
    createdAt: row.created_at,
    closedAt: row.closed_at,
    target: row.target ? (JSON.parse(row.target) as ClassTarget) : null,
    targetSeq: row.target_seq,
    message: row.message,
    messageAt: row.message_at,
    showBars: row.show_bars === 1,
    projected: row.projected ? (JSON.parse(row.projected) as ProjectedExchange) : null,
  };
}

function studentRecord(row: StudentRow | undefined): StudentRecord | null {
  if (!row) return null;
  return {
    classId: row.class_id,
    studentId: row.student_id,
    learnerId: row.learner_id,
    name: row.name,
    joinedAt: row.joined_at,
    lastActiveAt: row.last_active_at,
    following: row.following === 1,
    shareConsent: row.share_consent === 1,
  };
}
