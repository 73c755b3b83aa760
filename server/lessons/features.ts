// What this lab offers beyond one process on its own, and the course as this lab can teach it: a
// task that needs Redis, or several instances behind a load balancer, is left out where the lab
// lacks it (a learner is never asked what cannot happen here), and counted in nothing.
import type { Lesson, Requirement } from './schema.ts';

export type LabFeatures = Record<Requirement, boolean>;

/** One process, no Redis: the embedded default, and the lessons' own replays. */
export const NO_FEATURES: LabFeatures = { redis: false, instances: false };

export function labFeatures({ redis, instanceCount }: { redis: boolean; instanceCount: number }): LabFeatures {
  return { redis, instances: instanceCount > 1 };
}

export function taskAvailable(task: Lesson['tasks'][number], features: LabFeatures): boolean {
  return task.requires.every((requirement) => features[requirement]);
}

/** The lessons with only the tasks this lab can offer (the lesson objects themselves when all are). */
export function courseFor(lessons: readonly Lesson[], features: LabFeatures): Lesson[] {
  return lessons.map((lesson) => (lesson.tasks.every((task) => taskAvailable(task, features)) ? lesson : { ...lesson, tasks: lesson.tasks.filter((task) => taskAvailable(task, features)) }));
}
