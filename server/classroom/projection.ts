// A student's exchange on the projector: chosen by the teacher from a group of failed checks, shown
// only while the student agrees to it (ClassStore's share consent), and never with their name or
// anything that opens their sandbox: its id (in the request path, the cookie's Path, the
// explanations) is replaced before the exchange reaches a template.
import type { Database } from '../db/database.ts';
import type { Exchange } from '../sandbox/model.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { ClassRecord, ClassStore } from './class-store.ts';
import { groupKey, normalizeFailure } from './dashboard.ts';

/** What stands in for the student's sandbox id wherever the exchange mentions it. */
const HIDDEN_SANDBOX = '…';

export interface ProjectedView {
  exchange: Exchange;
  lessonTitle: string | null;
  taskTitle: string | null;
  observed: string | null;
}

export class ProjectionError extends Error {}

export class Projection {
  constructor(
    private readonly db: Database,
    private readonly classes: ClassStore,
    private readonly lessons: readonly Lesson[],
  ) {}

  /**
   * Puts on the projector the newest failed check in a group (a task and an observation) whose
   * student consents; throws ProjectionError, in words for the teacher, when there is none.
   */
  async projectGroup(record: ClassRecord, lesson: string, task: string, key: string): Promise<void> {
    const [failures, students] = await Promise.all([this.classes.failures(record.id, lesson), this.classes.students(record.id)]);
    const consenting = new Map(students.filter((s) => s.shareConsent).map((s) => [s.learnerId, s]));
    const inGroup = failures.filter((f) => f.task === task && groupKey(normalizeFailure(f.detail)) === key);
    if (inGroup.length === 0) throw new ProjectionError('that group of failed checks is no longer there (the student may have been removed or reset): refresh the dashboard');
    // failures() is oldest first: the newest consenting one is the freshest example.
    const chosen = inGroup.reverse().find((f) => consenting.has(f.learnerId));
    if (!chosen) throw new ProjectionError('no student in this group has agreed to have their exchange shown: ask them to press "Let the teacher show my exchange on the projector" in their class bar');
    if (!(await this.exchangeJson(chosen.sandboxId, chosen.exchangeNumber))) throw new ProjectionError('that exchange is no longer kept (the sandbox keeps only its latest ones): choose another group, or ask for a new attempt');
    await this.classes.setProjected(record.id, { studentId: consenting.get(chosen.learnerId)!.studentId, sandboxId: chosen.sandboxId, exchangeNumber: chosen.exchangeNumber });
  }

  /** What the projector shows now, or null: nothing projected, or the student no longer agrees (or left). */
  async current(record: ClassRecord): Promise<ProjectedView | null> {
    const projected = record.projected;
    if (!projected) return null;
    const student = await this.classes.student(record.id, projected.studentId);
    if (!student?.shareConsent) return null;
    const json = await this.exchangeJson(projected.sandboxId, projected.exchangeNumber);
    if (!json) return null;
    const exchange = { ...(JSON.parse(hideSandbox(json, projected.sandboxId)) as Exchange), number: projected.exchangeNumber };
    // What the check saw there, for the class to read beside it (the student's own failure row).
    const failure = await this.db.get<{ lesson: string; task: string; detail: string }>(
      'SELECT lesson, task, detail FROM check_failures WHERE learner_id = ? AND sandbox_id = ? AND exchange_number = ? ORDER BY at DESC LIMIT 1',
      [student.learnerId, projected.sandboxId, projected.exchangeNumber],
    );
    const lesson = failure ? this.lessons.find((l) => l.slug === failure.lesson) : undefined;
    return {
      exchange,
      lessonTitle: lesson?.title ?? null,
      taskTitle: lesson?.tasks.find((t) => t.id === failure?.task)?.title ?? null,
      observed: failure ? hideSandbox(normalizeFailure(failure.detail), projected.sandboxId) : null,
    };
  }

  private async exchangeJson(sandboxId: string, number: number): Promise<string | null> {
    const row = await this.db.get<{ exchange: string }>('SELECT exchange FROM exchanges WHERE sandbox_id = ? AND number = ?', [sandboxId, number]);
    return row?.exchange ?? null;
  }
}

/** The text with every mention of the sandbox's id replaced (JSON stays valid: the id is URL-safe base64). */
function hideSandbox(text: string, sandboxId: string): string {
  return sandboxId ? text.split(sandboxId).join(HIDDEN_SANDBOX) : text;
}
