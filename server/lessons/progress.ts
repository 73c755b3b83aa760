// A learner's progress through the lessons: solved tasks, hints shown, and each lesson's sandbox.
// Keyed by a learner id kept in the site's own session; stored in SQLite so it survives restarts.
import type { Database } from '../db/database.ts';
import type { Lesson } from './schema.ts';
import { RowCache } from '../db/row-cache.ts';

/** Shared by every request that reads it while it is cached: never changed in place. */
export interface LessonProgress {
  readonly sandboxId: string | null;
  /** Exchanges and probes from before this time (ms) no longer count: the learner reset since. */
  readonly resetAt: number;
  readonly solved: ReadonlySet<string>;
  /** Task id to how many of its hints the learner has opened. */
  readonly hints: ReadonlyMap<string, number>;
}

/** The export format: plain JSON a learner can keep and import elsewhere. */
export interface ProgressExport {
  format: 'cookie-lab-progress';
  version: 1;
  lessons: Record<string, { solved: string[]; hints: Record<string, number> }>;
}

export class ProgressError extends Error {}

/**
 * "n of m tasks solved", per lesson slug, for the lessons as this lab offers them: a solve kept for
 * a task this lab does not offer (imported from a lab with Redis, say) is not counted here.
 */
export function solvedCounter(lessons: readonly Lesson[], done: ReadonlyMap<string, LessonProgress>): (slug: string) => number {
  return (slug) => {
    const solved = done.get(slug)?.solved;
    return solved ? (lessons.find((lesson) => lesson.slug === slug)?.tasks.filter((task) => solved.has(task.id)).length ?? 0) : 0;
  };
}

export class ProgressStore {
  /**
   * A lesson page and the task refreshes after each exchange ask for the same progress within
   * moments. This process's writes invalidate it; another process's show within a second (see
   * server/db/data-version.ts, notifications.ts).
   */
  private readonly lessons: RowCache<LessonProgress>;

  constructor(private readonly db: Database) {
    this.lessons = new RowCache(db.changes('lesson_sandboxes', 'solved_tasks', 'hints_shown', 'progress_resets', 'lesson_resets'));
  }

  /** One lesson's progress in a single query: every lesson page and task refresh asks for it. */
  forLesson(learnerId: string, lesson: string): Promise<LessonProgress> {
    return this.lessons.get(lessonKey(learnerId, lesson), () => this.readLesson(learnerId, lesson));
  }

  private async readLesson(learnerId: string, lesson: string): Promise<LessonProgress> {
    // One round trip: a row per fact, told apart by its kind.
    const rows = await this.db.all<{ kind: 'sandbox' | 'solved' | 'hint' | 'reset'; text: string | null; n: number | null }>(
      `SELECT 'sandbox' AS kind, sandbox_id AS text, CAST(NULL AS BIGINT) AS n FROM lesson_sandboxes WHERE learner_id = ? AND lesson = ?
       UNION ALL SELECT 'solved', task, NULL FROM solved_tasks WHERE learner_id = ? AND lesson = ?
       UNION ALL SELECT 'hint', task, count FROM hints_shown WHERE learner_id = ? AND lesson = ?
       UNION ALL SELECT 'reset', NULL, reset_at FROM progress_resets WHERE learner_id = ?
       UNION ALL SELECT 'reset', NULL, reset_at FROM lesson_resets WHERE learner_id = ? AND lesson = ?`,
      [learnerId, lesson, learnerId, lesson, learnerId, lesson, learnerId, learnerId, lesson],
    );
    const progress = emptyProgress();
    let resetAt = 0;
    for (const row of rows) {
      if (row.kind === 'sandbox') progress.sandboxId = row.text;
      else if (row.kind === 'solved') progress.solved.add(row.text!);
      else if (row.kind === 'hint') progress.hints.set(row.text!, row.n!);
      else resetAt = Math.max(resetAt, row.n!);
    }
    return { ...progress, resetAt };
  }

  async forLearner(learnerId: string): Promise<Map<string, LessonProgress>> {
    const [sandboxes, solved, hints] = await Promise.all([
      this.db.all<{ lesson: string; sandbox_id: string }>('SELECT lesson, sandbox_id FROM lesson_sandboxes WHERE learner_id = ?', [learnerId]),
      this.db.all<{ lesson: string; task: string }>('SELECT lesson, task FROM solved_tasks WHERE learner_id = ?', [learnerId]),
      this.db.all<{ lesson: string; task: string; count: number }>('SELECT lesson, task, count FROM hints_shown WHERE learner_id = ?', [learnerId]),
    ]);
    const byLesson = new Map<string, BuildingProgress>();
    const entry = (lesson: string) => {
      let progress = byLesson.get(lesson);
      if (!progress) byLesson.set(lesson, (progress = emptyProgress()));
      return progress;
    };
    for (const row of sandboxes) entry(row.lesson).sandboxId = row.sandbox_id;
    for (const row of solved) entry(row.lesson).solved.add(row.task);
    for (const row of hints) entry(row.lesson).hints.set(row.task, row.count);
    return byLesson;
  }

  /**
   * Makes `sandboxId` the lesson's sandbox unless another request got there first, replacing only
   * `stale` (a sandbox that no longer exists). Returns the lesson's sandbox id after the race.
   */
  async claimSandbox(learnerId: string, lesson: string, sandboxId: string, stale: string | null): Promise<string> {
    await this.lessons.writing(lessonKey(learnerId, lesson), () =>
      stale
        ? // The stale row may be gone already (the clean-up deletes abandoned sandboxes' rows).
          this.db.run(
            `INSERT INTO lesson_sandboxes (learner_id, lesson, sandbox_id) VALUES (?, ?, ?)
             ON CONFLICT (learner_id, lesson) DO UPDATE SET sandbox_id = excluded.sandbox_id WHERE lesson_sandboxes.sandbox_id = ?`,
            [learnerId, lesson, sandboxId, stale],
          )
        : this.db.run('INSERT INTO lesson_sandboxes (learner_id, lesson, sandbox_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [learnerId, lesson, sandboxId]),
    );
    const row = await this.db.get<{ sandbox_id: string }>('SELECT sandbox_id FROM lesson_sandboxes WHERE learner_id = ? AND lesson = ?', [learnerId, lesson]);
    return row?.sandbox_id ?? sandboxId;
  }

  /** No lesson keeps this sandbox any more (the clean-up deleted it); the learner gets a new one. */
  async forgetSandbox(sandboxId: string): Promise<void> {
    // Rare (a sandbox unused for weeks): forgetting every cached lesson is simplest.
    await this.lessons.writing(undefined, () => this.db.run('DELETE FROM lesson_sandboxes WHERE sandbox_id = ?', [sandboxId]));
  }

  /** Returns whether the task was newly solved. */
  async markSolved(learnerId: string, lesson: string, task: string): Promise<boolean> {
    const { changes } = await this.lessons.writing(lessonKey(learnerId, lesson), () =>
      this.db.run('INSERT INTO solved_tasks (learner_id, lesson, task, solved_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [learnerId, lesson, task, Date.now()]),
    );
    return changes > 0;
  }

  /** Records that hints up to `count` have been shown; never lowers the count. */
  async showHints(learnerId: string, lesson: string, task: string, count: number): Promise<void> {
    await this.lessons.writing(lessonKey(learnerId, lesson), () =>
      this.db.run(
        `INSERT INTO hints_shown (learner_id, lesson, task, count) VALUES (?, ?, ?, ?)
         ON CONFLICT (learner_id, lesson, task) DO UPDATE SET count = CASE WHEN excluded.count > hints_shown.count THEN excluded.count ELSE hints_shown.count END`,
        [learnerId, lesson, task, count],
      ),
    );
  }

  /**
   * Forgets solved tasks and hints; the lesson sandboxes stay, so nothing the learner built is
   * lost, but what was done in them before now no longer solves a task.
   */
  async reset(learnerId: string): Promise<void> {
    // A reset touches all of a learner's lessons, and is rare: forgetting every cached lesson is simplest.
    await this.lessons.writing(undefined, async () => {
      await this.db.run('DELETE FROM solved_tasks WHERE learner_id = ?', [learnerId]);
      await this.db.run('DELETE FROM hints_shown WHERE learner_id = ?', [learnerId]);
      await this.db.run(
        'INSERT INTO progress_resets (learner_id, reset_at) VALUES (?, ?) ON CONFLICT (learner_id) DO UPDATE SET reset_at = excluded.reset_at',
        [learnerId, Date.now()],
      );
    });
  }

  /** The same as reset(), for one lesson. */
  async resetLesson(learnerId: string, lesson: string): Promise<void> {
    await this.lessons.writing(lessonKey(learnerId, lesson), async () => {
      await this.db.run('DELETE FROM solved_tasks WHERE learner_id = ? AND lesson = ?', [learnerId, lesson]);
      await this.db.run('DELETE FROM hints_shown WHERE learner_id = ? AND lesson = ?', [learnerId, lesson]);
      await this.db.run(
        'INSERT INTO lesson_resets (learner_id, lesson, reset_at) VALUES (?, ?, ?) ON CONFLICT (learner_id, lesson) DO UPDATE SET reset_at = excluded.reset_at',
        [learnerId, lesson, Date.now()],
      );
    });
  }

  async exportProgress(learnerId: string): Promise<ProgressExport> {
    const lessons: ProgressExport['lessons'] = {};
    for (const [lesson, progress] of await this.forLearner(learnerId)) {
      if (progress.solved.size === 0 && progress.hints.size === 0) continue;
      lessons[lesson] = { solved: [...progress.solved].sort(), hints: Object.fromEntries(progress.hints) };
    }
    return { format: 'cookie-lab-progress', version: 1, lessons };
  }

  /** Merges an export into the learner's progress: what either side solved stays solved. */
  async importProgress(learnerId: string, data: unknown, lessons: readonly Lesson[]): Promise<number> {
    const parsed = parseExport(data, lessons);
    let facts = 0;
    for (const [lesson, progress] of Object.entries(parsed.lessons)) {
      for (const task of progress.solved) if (await this.markSolved(learnerId, lesson, task)) facts++;
      for (const [task, count] of Object.entries(progress.hints)) await this.showHints(learnerId, lesson, task, count);
    }
    return facts;
  }
}

function lessonKey(learnerId: string, lesson: string): string {
  return `${learnerId} ${lesson}`;
}

/** A LessonProgress while it is put together from rows. */
interface BuildingProgress extends LessonProgress {
  sandboxId: string | null;
  solved: Set<string>;
  hints: Map<string, number>;
}

function emptyProgress(): BuildingProgress {
  return { sandboxId: null, resetAt: 0, solved: new Set(), hints: new Map() };
}

/** Checks every part of an import before any of it is applied. */
export function parseExport(data: unknown, lessons: readonly Lesson[]): ProgressExport {
  const bad = (message: string): never => {
    throw new ProgressError(message);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('the file is not a Cookie Lab progress export (expected a JSON object)');
  const d = data as Record<string, unknown>;
  if (d.format !== 'cookie-lab-progress') bad('the file is not a Cookie Lab progress export (its "format" is not "cookie-lab-progress")');
  if (d.version !== 1) bad(`this lab reads version 1 exports; the file says version ${JSON.stringify(d.version)}`);
  if (typeof d.lessons !== 'object' || d.lessons === null || Array.isArray(d.lessons)) bad('"lessons" must be an object');
  const result: ProgressExport = { format: 'cookie-lab-progress', version: 1, lessons: {} };
  for (const [slug, value] of Object.entries(d.lessons as Record<string, unknown>)) {
    const lesson = lessons.find((l) => l.slug === slug);
    if (!lesson) bad(`there is no lesson "${slug}"`);
    const taskIds = new Set(lesson!.tasks.map((t) => t.id));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`lessons.${slug} must be an object with "solved" and "hints"`);
    const { solved = [], hints = {} } = value as Record<string, unknown>;
    if (!Array.isArray(solved)) bad(`lessons.${slug}.solved must be a list of task ids`);
    for (const task of solved as unknown[]) if (typeof task !== 'string' || !taskIds.has(task)) bad(`lesson "${slug}" has no task ${JSON.stringify(task)}`);
    if (typeof hints !== 'object' || hints === null || Array.isArray(hints)) bad(`lessons.${slug}.hints must be an object`);
    for (const [task, count] of Object.entries(hints as Record<string, unknown>)) {
      if (!taskIds.has(task)) bad(`lesson "${slug}" has no task ${JSON.stringify(task)}`);
      const available = lesson!.tasks.find((t) => t.id === task)!.hints.length;
      if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > available) {
        bad(`lessons.${slug}.hints.${task} must be a whole number from 0 to ${available} (the task's hints)`);
      }
    }
    result.lessons[slug] = { solved: solved as string[], hints: hints as Record<string, number> };
  }
  return result;
}
