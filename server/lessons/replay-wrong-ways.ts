// Trying a lesson's wrong ways: each on a learner (a browser) and a sandbox of its own, after the
// earlier tasks' solutions; the wrong way must leave its task open, and the task's solution must
// still solve it afterwards (a learner who went the wrong way can still follow the instructions).
import { courseFor, NO_FEATURES } from './features.ts';
import { evaluate, readsProbe } from './checks.ts';
import { LessonRun, withoutProbe, type ProbeMode, type ReplayLab } from './replay.ts';
import { sendsFromOtherSite, type Lesson, type Task, type WrongWay } from './schema.ts';

/** A wrong way, tried after the earlier tasks' solutions: 'open' when its task stayed open and the solution still solved it afterwards. */
export interface WrongWayOutcome {
  task: Task;
  wrongWay: WrongWay;
  verdict: 'open' | 'needs-browser' | 'failed';
  /** What the task said to the learner after the wrong way, or why the outcome failed. */
  detail: string;
}

/**
 * Every wrong way of the lesson's tasks, each on a browser (a learner) and a sandbox of its own,
 * all at once: the earlier tasks' solutions, then the wrong way, which must leave its task open;
 * then the task's own solution, which must still solve it.
 */
export async function replayWrongWays(lab: ReplayLab, wholeLesson: Lesson, probe: ProbeMode = 'skip'): Promise<WrongWayOutcome[]> {
  // As replayLesson: one process without Redis.
  const lesson = courseFor([wholeLesson], NO_FEATURES)[0]!;
  const tries = lesson.tasks.flatMap((task, index) => task.wrongWays.map((wrongWay) => ({ task, index, wrongWay })));
  return Promise.all(
    tries.map(async ({ task, index, wrongWay }): Promise<WrongWayOutcome> => {
      const failed = (detail: string): WrongWayOutcome => ({ task, wrongWay, verdict: 'failed', detail });
      // Steps sent from the second site, here or in the tasks before: only a browser can try it.
      const upTo = lesson.tasks.slice(0, index + 1).flatMap((t) => t.solution);
      if (sendsFromOtherSite([...upTo, ...wrongWay.steps])) return { task, wrongWay, verdict: 'needs-browser', detail: 'sent from the second site: left to the Chromium replay' };
      try {
        const run = new LessonRun(lab, lesson, probe);
        for (const earlier of lesson.tasks.slice(0, index)) {
          const outcome = await run.task(earlier);
          if (outcome.verdict === 'failed') return failed(`the earlier task "${earlier.id}" was not solved: ${outcome.detail}`);
        }
        await run.steps(wrongWay.steps, 'wrong way');
        if ((await run.solvedTasks()).has(task.id)) return failed('the wrong way solved the task: its check does not demand what the task teaches');
        const seen = await run.observation();
        let said = evaluate(task.check, seen).detail;
        // Without the probe, the task is surely open only when the rest of its check fails.
        let verdict: WrongWayOutcome['verdict'] = 'open';
        if (probe === 'skip' && readsProbe(task.check)) {
          const rest = withoutProbe(task.check);
          const result = rest ? evaluate(rest, seen) : { passed: true, detail: '' };
          if (result.passed) verdict = 'needs-browser';
          else said = result.detail;
        }
        const after = await run.task(task);
        if (after.verdict === 'failed') return failed(`after the wrong way, the task's solution no longer solves it: ${after.detail}`);
        return { task, wrongWay, verdict, detail: said };
      } catch (err) {
        return failed(err instanceof Error ? err.message : String(err));
      }
    }),
  );
}
