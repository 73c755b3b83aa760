// What the teacher's dashboard shows for one lesson: every student (never a top-N) with the tasks
// they solved, the hints they opened, when they last did anything and whether they look stuck; how
// many solved each task; and the failed checks grouped by what they observed. Also the dashboard's
// fingerprint: one cheap query that changes whenever anything the dashboard shows may have changed,
// so a poll that finds it unchanged is answered 304 without building any of this.
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { ClassRecord, ClassStore, StudentRecord } from './class-store.ts';

/** Failed checks on one task, still unsolved, from which a student counts as stuck. */
export const STUCK_FAILURES = 3;
/** Idle this long (ms), while others in the class solved something meanwhile, counts as stuck. */
export const IDLE_MS = 3 * 60_000;
/**
 * The dashboard's words for idleness ("idle 4 min") and stuckness change with time alone: the
 * fingerprint includes the time in steps of this long, so an unchanged class still refreshes.
 */
export const TIME_STEP_MS = 15_000;

export interface StudentRow {
  studentId: string;
  name: string;
  /** One per task of the lesson, in its order. */
  solved: boolean[];
  hints: number;
  /** The latest of the class's activity note, their solves and their failed checks (ms). */
  lastActiveAt: number;
  idleMs: number;
  /** Why they look stuck, in a few words for the tile ("4 failed checks on T1"); null when they do not. */
  stuck: string | null;
  /** The same, in a sentence. */
  stuckWhy: string | null;
  shareConsent: boolean;
  done: boolean;
}

export interface FailureGroup {
  /** A short stable key of the observation (the project form names the group by it). */
  key: string;
  /** What the failed checks observed, numbers and exchange references taken out. */
  observed: string;
  /** Distinct students with a failed check in this group. */
  students: number;
  checks: number;
  /** How many of those students have solved the task since. */
  solvedSince: number;
  /** Whether one of the students agreed to have their exchange shown (so it can be projected). */
  projectable: boolean;
}

export interface TaskColumn {
  id: string;
  title: string;
  number: number;
  solvedBy: number;
  /** Students whose first unsolved task this is: where they are working now. */
  workingOn: number;
  failures: FailureGroup[];
}

export interface DashboardData {
  lesson: { slug: string; title: string };
  tasks: TaskColumn[];
  students: StudentRow[];
  stuckCount: number;
  now: number;
}

interface Fact {
  learnerId: string;
  task: string;
  at: number;
  n: number;
}

/** A failed check's words reduced to what was observed, so that the same misconception groups together. */
export function normalizeFailure(detail: string): string {
  let text = detail.trim();
  // "Expected <the task's own description>, but <what was seen>." The description is the same for
  // everyone on the task: the observation is what tells misconceptions apart.
  const but = text.indexOf(', but ');
  if (text.startsWith('Expected ') && but >= 0) text = text.slice(but + ', but '.length);
  text = text
    // Which of the student's own exchanges came closest says nothing about the misconception.
    .replace(/\bin exchange #\d+ \([a-z]+\) /gi, '')
    .replace(/\bexchange #\d+ \(([a-z]+)\)/gi, 'a $1 exchange')
    .replace(/#\d+/g, '#n')
    // Times and counts differ from student to student ("expired 3 s ago").
    .replace(/\b\d+(\.\d+)?\b/g, 'N')
    .replace(/\s+/g, ' ')
    .replace(/\.$/, '');
  if (!text) return 'no details';
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function groupKey(observed: string): string {
  return createHash('sha256').update(observed).digest('base64url').slice(0, 12);
}

export class Dashboard {
  constructor(
    private readonly db: Database,
    private readonly classes: ClassStore,
  ) {}

  /**
   * Changes whenever anything the lesson's dashboard shows may have changed: the class itself,
   * its students (joins, removals, consent, activity), and their solves, hints and failed checks
   * in the lesson, plus the time in steps (idleness). Read from the database on every call, not a
   * cache, so another process's change shows at the next poll. One query of indexed aggregates;
   * the class's own fields come from `record`, which the poll has just read by its token or code.
   */
  async fingerprint(record: ClassRecord, lesson: string, now = Date.now()): Promise<string> {
    const rows = await this.db.all<{ k: string; n: unknown; m: unknown; x: unknown }>(
      `SELECT 'students' AS k, count(*) AS n, coalesce(max(joined_at), 0) AS m, coalesce(max(last_active_at), 0) AS x
         FROM class_students WHERE class_id = ?
       UNION ALL
       SELECT 'consents', count(*), 0, 0 FROM class_students WHERE class_id = ? AND share_consent = 1
       UNION ALL
       SELECT 'solved', count(*), coalesce(max(t.solved_at), 0), 0
         FROM solved_tasks t JOIN class_students s ON s.learner_id = t.learner_id WHERE s.class_id = ? AND t.lesson = ?
       UNION ALL
       SELECT 'hints', count(*), 0, coalesce(sum(h.count), 0)
         FROM hints_shown h JOIN class_students s ON s.learner_id = h.learner_id WHERE s.class_id = ? AND h.lesson = ?
       UNION ALL
       SELECT 'failures', count(*), coalesce(max(f.at), 0), 0
         FROM check_failures f JOIN class_students s ON s.learner_id = f.learner_id WHERE s.class_id = ? AND f.lesson = ?`,
      [record.id, record.id, record.id, lesson, record.id, lesson, record.id, lesson],
    );
    const parts = [
      lesson,
      Math.floor(now / TIME_STEP_MS),
      ...rows.map((r) => `${r.k}:${String(r.n)}:${String(r.m)}:${String(r.x)}`),
      // The class's own fields the pages show (the bars' lesson follows where the class was sent).
      JSON.stringify([record.showBars, record.projected, record.closedAt, record.title, record.target?.lesson ?? null]),
    ];
    return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 16);
  }

  async build(record: ClassRecord, lesson: Lesson, now = Date.now()): Promise<DashboardData> {
    const [students, solved, hints, failures] = await Promise.all([
      this.classes.students(record.id),
      this.facts('SELECT t.learner_id, t.task, t.solved_at AS at, 1 AS n FROM solved_tasks t JOIN class_students s ON s.learner_id = t.learner_id WHERE s.class_id = ? AND t.lesson = ?', record.id, lesson.slug),
      this.facts('SELECT h.learner_id, h.task, 0 AS at, h.count AS n FROM hints_shown h JOIN class_students s ON s.learner_id = h.learner_id WHERE s.class_id = ? AND h.lesson = ?', record.id, lesson.slug),
      this.classes.failures(record.id, lesson.slug),
    ]);
    const taskIds = lesson.tasks.map((t) => t.id);
    const solvedBy = byLearner(solved);
    const hintsBy = byLearner(hints);
    const failuresBy = new Map<string, Fact[]>();
    for (const f of failures) push(failuresBy, f.learnerId, { learnerId: f.learnerId, task: f.task, at: f.at, n: 1 });
    // The class is moving on when someone solved something within the idle threshold.
    const latestSolve = solved.reduce((latest, s) => Math.max(latest, s.at), 0);

    const rows = students.map((student) => studentRow(student, taskIds, solvedBy.get(student.learnerId) ?? [], hintsBy.get(student.learnerId) ?? [], failuresBy.get(student.learnerId) ?? [], latestSolve, now));
    const tasks: TaskColumn[] = lesson.tasks.map((task, index) => ({
      id: task.id,
      title: task.title,
      number: index + 1,
      solvedBy: rows.filter((r) => r.solved[index]).length,
      workingOn: rows.filter((r) => r.solved.indexOf(false) === index).length,
      failures: [],
    }));
    const byStudentLearner = new Map(students.map((s) => [s.learnerId, s]));
    for (const task of tasks) task.failures = groupFailures(failures.filter((f) => f.task === task.id), byStudentLearner, solvedBy);
    return { lesson: { slug: lesson.slug, title: lesson.title }, tasks, students: rows, stuckCount: rows.filter((r) => r.stuck).length, now };
  }

  private async facts(sql: string, classId: string, lesson: string): Promise<Fact[]> {
    const rows = await this.db.all<{ learner_id: string; task: string; at: unknown; n: unknown }>(sql, [classId, lesson]);
    // Numbers whichever engine answered (PostgreSQL's pg hands some integer types back as text).
    return rows.map((r) => ({ learnerId: r.learner_id, task: r.task, at: Number(r.at), n: Number(r.n) }));
  }
}

function studentRow(student: StudentRecord, taskIds: string[], solved: Fact[], hints: Fact[], failures: Fact[], latestSolve: number, now: number): StudentRow {
  const solvedTasks = new Set(solved.map((s) => s.task));
  const marks = taskIds.map((id) => solvedTasks.has(id));
  const done = marks.every(Boolean);
  const lastActiveAt = Math.max(Number(student.lastActiveAt), ...solved.map((s) => s.at), ...failures.map((f) => f.at));
  const idleMs = Math.max(0, now - lastActiveAt);
  let stuck: string | null = null;
  let stuckWhy: string | null = null;
  if (!done) {
    // Failed checks on a task still unsolved: the most tried first.
    const tries = new Map<string, number>();
    for (const f of failures) if (!solvedTasks.has(f.task)) tries.set(f.task, (tries.get(f.task) ?? 0) + 1);
    const [task, count] = [...tries].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    if (count >= STUCK_FAILURES) {
      stuck = `${count} fails on T${taskIds.indexOf(task) + 1}`;
      stuckWhy = `${count} failed checks on task ${taskIds.indexOf(task) + 1}, not solved yet`;
    } else if (idleMs >= IDLE_MS && latestSolve > lastActiveAt && now - latestSolve < IDLE_MS) {
      stuck = `idle ${Math.floor(idleMs / 60_000)} min`;
      stuckWhy = `no activity for ${Math.floor(idleMs / 60_000)} minutes, while others in the class solved tasks`;
    }
  }
  return {
    studentId: student.studentId,
    name: student.name,
    solved: marks,
    hints: hints.reduce((sum, h) => sum + h.n, 0),
    lastActiveAt,
    idleMs,
    stuck,
    stuckWhy,
    shareConsent: student.shareConsent,
    done,
  };
}

function groupFailures(failures: { learnerId: string; detail: string; task: string }[], students: Map<string, StudentRecord>, solvedBy: Map<string, Fact[]>): FailureGroup[] {
  const groups = new Map<string, { observed: string; learners: Set<string>; checks: number }>();
  for (const f of failures) {
    if (!students.has(f.learnerId)) continue;
    const observed = normalizeFailure(f.detail);
    let group = groups.get(observed);
    if (!group) groups.set(observed, (group = { observed, learners: new Set(), checks: 0 }));
    group.learners.add(f.learnerId);
    group.checks++;
  }
  const task = failures[0]?.task;
  return [...groups.values()]
    .map((g) => ({
      key: groupKey(g.observed),
      observed: g.observed,
      students: g.learners.size,
      checks: g.checks,
      solvedSince: [...g.learners].filter((l) => (solvedBy.get(l) ?? []).some((s) => s.task === task)).length,
      projectable: [...g.learners].some((l) => students.get(l)?.shareConsent),
    }))
    .sort((a, b) => b.students - a.students || b.checks - a.checks || a.observed.localeCompare(b.observed));
}

function byLearner(facts: Fact[]): Map<string, Fact[]> {
  const map = new Map<string, Fact[]>();
  for (const fact of facts) push(map, fact.learnerId, fact);
  return map;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
