// Following the teacher: where a student who follows the class goes, and the sandbox preset that
// comes with it. Only a teacher's send (ClassStore.send, behind the teacher's token) changes the
// class's target; a student's own requests only ever read it, and only move that student's page.
import type { ClassRecord } from './class-store.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { ProgressStore } from '../lessons/progress.ts';
import { lessonSandbox } from '../lessons/lesson-sandbox.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import { OptionsError, validateOptions } from '../sandbox/options.ts';

export function classFollowing(lessons: readonly Lesson[], registry: SandboxRegistry, progress: ProgressStore) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  /**
   * The page where the class is now, for this learner: the target lesson (at its task), with the
   * preset applied to the learner's own sandbox of that lesson (created if they never opened it).
   * Without a target, the class's first lesson. The query names the send, so a student already on
   * that lesson's page still gets a fresh page (a change of #fragment alone would not load one).
   */
  async function destination(record: ClassRecord, learner: string): Promise<string> {
    const target = record.target;
    const lesson = target ? bySlug.get(target.lesson) : bySlug.get(record.lessons[0] ?? '');
    if (!lesson) return '/lessons';
    if (!target) return `/lessons/${lesson.slug}`;
    if (target.preset) {
      const sandbox = await lessonSandbox(registry, progress, learner, lesson, await progress.forLesson(learner, lesson.slug));
      try {
        await registry.updateOptions(sandbox, registry.checkAvailable(validateOptions(target.preset, sandbox.options)));
      } catch (err) {
        // Checked when the teacher sent it; a lab that lost its Redis since may refuse it now:
        // the student still goes where the class is, with their sandbox as it was.
        if (!(err instanceof OptionsError)) throw err;
      }
    }
    const task = target.task && lesson.tasks.some((t) => t.id === target.task) ? `#task-${target.task}` : '';
    return `/lessons/${lesson.slug}?followed=${record.targetSeq}${task}`;
  }

  return { destination };
}

export type ClassFollowing = ReturnType<typeof classFollowing>;
