// What a class learns from its students' lesson checks (server/routes/lessons.ts calls it after
// every check): that the student is active, and the check that failed after their latest
// exchange, with its message, which the teacher's dashboard groups per task across the class.
// Only for learners in a class: everyone else's checks are not kept.
import type { ClassStore } from './class-store.ts';
import type { LessonActivity } from '../lessons/lesson-activity.ts';

export function classActivity(classes: ClassStore): LessonActivity {
  return {
    async checked(learner, lesson, sandboxId, latestExchange, failure) {
      const student = await classes.membership(learner);
      if (!student) return;
      await classes.touch(student);
      // A check fails before the learner has tried anything (a fresh page): that is no mistake.
      // Each exchange is counted once, however often the tasks are refreshed after it.
      if (!failure || latestExchange === null) return;
      await classes.recordFailure({ learnerId: learner, lesson, task: failure.task, sandboxId, exchangeNumber: latestExchange, detail: failure.detail, at: Date.now() });
    },
  };
}
