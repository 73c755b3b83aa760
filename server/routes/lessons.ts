// Lesson pages: the course list, a lesson with its sandbox, its tasks checked against what really
// happened, and hints.
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http/http-error.ts';
import type { Lesson, Task } from '../lessons/schema.ts';
import { evaluate } from '../lessons/checks.ts';
import { solvedCounter, type LessonProgress, type ProgressStore } from '../lessons/progress.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { Render } from '../http/views.ts';
import { sandboxPanelsHtml } from '../sandbox/panels.ts';
import { learnerId } from '../stores/site-session.ts';
import { isHtmx } from '../http/negotiation.ts';
import { putSandboxBack } from '../lessons/lesson-reset.ts';
import { lessonSandbox as findOrCreateLessonSandbox } from '../lessons/lesson-sandbox.ts';
import type { LessonActivity } from '../lessons/lesson-activity.ts';
import { describeStep } from '../lessons/solution-steps.ts';
import { fillLesson } from '../lessons/placeholders.ts';
import { taskKeys } from '../lessons/task-keys.ts';
import { presenterLocals } from '../http/presenter.ts';
import type { PredictionCount, PredictionStore } from '../lessons/predictions.ts';

export interface TaskState {
  task: Task;
  solved: boolean;
  /** Solved by the exchange that triggered this render: show the "why it works" note now. */
  justSolved: boolean;
  /** Why the check fails, for the first unsolved task only. */
  detail: string;
  hintsShown: number;
}

export function lessonHandlers(lessons: readonly Lesson[], registry: SandboxRegistry, progress: ProgressStore, predictions: PredictionStore, render: Render, activity?: LessonActivity) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));
  // By slug, not by object: a page's lesson is a copy with its placeholders filled (fillLesson).
  const position = new Map(lessons.map((lesson, index) => [lesson.slug, index]));

  const load: RequestHandler = (req, res, next) => {
    const lesson = bySlug.get(req.params.slug as string);
    if (!lesson) throw new HttpError(404, 'there is no such lesson; see /lessons for the course');
    // The lesson as this learner reads it: {{host}} is the host their browser reached the lab by.
    res.locals.lesson = fillLesson(lesson, { host: req.hostname || "the lab's host" });
    next();
  };

  const list: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    const done = learner ? await progress.forLearner(learner) : new Map();
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('lessons', { lessons, progressOf: solvedCounter(lessons, done) }));
  };

  const page: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson;
    const learner = learnerId(req, true)!;
    const saved = await progress.forLesson(learner, lesson.slug);
    const sandbox = await lessonSandbox(learner, lesson, saved);
    const tasks = await taskStates(learner, lesson, sandbox, saved);
    const index = position.get(lesson.slug)!;
    res.setHeader('Cache-Control', 'no-store');
    res.send(
      render('lesson', {
        ...tasksLocals(lesson, tasks, await predictions.forSandbox(sandbox.id)),
        resetNote: takeResetNote(req, lesson),
        previous: lessons[index - 1] ?? null,
        panelsHtml: sandboxPanelsHtml(render, sandbox),
        classBar: res.locals.classBar ?? null,
        sandbox,
        otherSite: lesson.crossSite ? (res.locals.otherSite ?? null) : null,
        ...presenterLocals(req),
      }),
    );
  };

  const tasks: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson;
    const learner = learnerId(req, false);
    if (!learner) throw new HttpError(409, 'open the lesson page first: it starts your progress');
    const saved = await progress.forLesson(learner, lesson.slug);
    const sandbox = await lessonSandbox(learner, lesson, saved);
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('partials/tasks', tasksLocals(lesson, await taskStates(learner, lesson, sandbox, saved), await predictions.forSandbox(sandbox.id))));
  };

  const hint: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson;
    const learner = learnerId(req, false);
    if (!learner) throw new HttpError(409, 'open the lesson page first: it starts your progress');
    const task = lesson.tasks.find((t) => t.id === req.params.task);
    if (!task) throw new HttpError(404, `lesson "${lesson.slug}" has no task "${String(req.params.task)}"`);
    const before = await progress.forLesson(learner, lesson.slug);
    await progress.showHints(learner, lesson.slug, task.id, Math.min((before.hints.get(task.id) ?? 0) + 1, task.hints.length));
    if (isHtmx(req)) {
      const saved = await progress.forLesson(learner, lesson.slug);
      const sandbox = await lessonSandbox(learner, lesson, saved);
      res.send(render('partials/tasks', tasksLocals(lesson, await taskStates(learner, lesson, sandbox, saved), await predictions.forSandbox(sandbox.id))));
    }
    else res.redirect(303, `/lessons/${lesson.slug}#task-${task.id}`);
  };

  /** What the tasks partial needs, on the page and in its refreshes. */
  function tasksLocals(lesson: Lesson, states: TaskState[], predicted: PredictionCount) {
    return { lesson, tasks: states, predicted, next: lessons[position.get(lesson.slug)! + 1] ?? null, stepWords: describeStep, keysFor: (task: Task) => taskKeys(lesson, task) };
  }

  function lessonSandbox(learner: string, lesson: Lesson, saved: LessonProgress): Promise<Sandbox> {
    return findOrCreateLessonSandbox(registry, progress, learner, lesson, saved);
  }

  /** Checks each unsolved task against what really happened; a pass is saved at once. */
  async function taskStates(learner: string, lesson: Lesson, sandbox: Sandbox, saved: LessonProgress): Promise<TaskState[]> {
    // Checked against what the database holds: the exchange that solves it may have been answered by another instance a moment ago.
    await registry.current(sandbox);
    // After a reset, only what the learner does from then on counts.
    const since = saved.resetAt;
    const seen = {
      exchanges: sandbox.exchanges.filter((exchange) => Date.parse(exchange.startedAt) >= since),
      options: sandbox.options,
      probe: sandbox.probe && sandbox.probe.at >= since ? sandbox.probe.value : null,
      probeAt: sandbox.probe && sandbox.probe.at >= since ? sandbox.probe.at : null,
      probeSent: sandbox.probe && sandbox.probe.at >= since ? sandbox.probe.sent : null,
      restarts: sandbox.restarts.filter((at) => at >= since),
    };
    let firstOpen = true;
    let failure: { task: string; detail: string } | null = null;
    const states: TaskState[] = [];
    for (const task of lesson.tasks) {
      const hintsShown = saved.hints.get(task.id) ?? 0;
      if (saved.solved.has(task.id)) {
        states.push({ task, solved: true, justSolved: false, detail: '', hintsShown });
        continue;
      }
      const result = evaluate(task.check, seen);
      if (result.passed) await progress.markSolved(learner, lesson.slug, task.id);
      states.push({ task, solved: result.passed, justSolved: result.passed, detail: !result.passed && firstOpen ? result.detail : '', hintsShown });
      // The task the learner is on: the first one still open. Later ones are not tried yet.
      if (!result.passed && firstOpen) failure = { task: task.id, detail: result.detail };
      if (!result.passed) firstOpen = false;
    }
    if (activity) {
      // The exchange that just solved a task is no mistake on the next one (which the learner has
      // not tried yet): the dashboard's "what went wrong" would count every solve as a failure.
      if (states.some((state) => state.justSolved)) failure = null;
      // A class's bookkeeping must never cost the learner their page.
      await activity.checked(learner, lesson.slug, sandbox.id, seen.exchanges.at(-1)?.number ?? null, failure).catch((err: unknown) => console.error('could not note a check for the class:', err));
    }
    return states;
  }

  /** "Reset this lesson": its tasks open again, its sandbox back to the lesson's options, its cookies cleared. */
  const reset: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson;
    const learner = learnerId(req, false);
    if (!learner) throw new HttpError(409, 'open the lesson page first: it starts your progress');
    const saved = await progress.forLesson(learner, lesson.slug);
    const sandbox = saved.sandboxId ? await registry.find(saved.sandboxId) : null;
    const clearing = sandbox ? await putSandboxBack(registry, sandbox, lesson, req.hostname ?? '') : { headers: [], cleared: [] };
    if (sandbox) await predictions.forget(sandbox.id);
    await progress.resetLesson(learner, lesson.slug);
    if (clearing.headers.length) res.append('Set-Cookie', clearing.headers);
    // Shown once by the page this redirects to (kept in the site session, not in the URL, so no link
    // can make the lab say it cleared something).
    req.session.resetNote = { lesson: lesson.slug, cleared: clearing.cleared };
    // To the tasks, where the note says what the click did (the button sits below them).
    res.redirect(303, `/lessons/${lesson.slug}#tasks-heading`);
  };

  return { load, list, page, tasks, hint, reset };
}

/** The note a lesson reset left for this lesson's page, once (it is removed as it is read). */
function takeResetNote(req: Request, lesson: Lesson): string | null {
  const note = req.session.resetNote;
  if (!note || note.lesson !== lesson.slug) return null;
  delete req.session.resetNote;
  return note.cleared.join('; ') || 'nothing';
}
