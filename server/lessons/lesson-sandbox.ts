// A learner's sandbox for a lesson: the one their progress names, or a new one with the lesson's
// options. Shared by the lesson pages and by a class that sends its students (and a preset) to a
// lesson they have not opened yet.
import type { LessonProgress, ProgressStore } from './progress.ts';
import type { Lesson } from './schema.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';

export async function lessonSandbox(registry: SandboxRegistry, progress: ProgressStore, learner: string, lesson: Lesson, { sandboxId }: LessonProgress): Promise<Sandbox> {
  const existing = sandboxId ? await registry.find(sandboxId) : null;
  if (existing) return existing;
  // Several tabs may open the lesson at once: one sandbox wins, the others are dropped.
  const created = await registry.create(lesson.sandbox);
  const winner = await progress.claimSandbox(learner, lesson.slug, created.id, sandboxId);
  if (winner === created.id) return created;
  await registry.remove(created.id);
  return (await registry.find(winner)) ?? created;
}
