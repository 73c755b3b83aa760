// Lesson handlers: the course list, lesson pages with their sandbox, task checks, hints, and the
// learner's progress (reset, export, import).
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http-error.ts';
import type { Lesson, Task } from '../lessons/schema.ts';
import { evaluate } from '../lessons/checks.ts';
import { ProgressError, type LessonProgress, type ProgressStore } from '../progress.ts';
import type { Sandbox, SandboxRegistry } from '../sandbox-registry.ts';
import type { Render } from '../views.ts';
import { sandboxPanelsHtml } from '../sandbox-view.ts';
import { startLearner } from '../site-session.ts';

export interface TaskState {
  task: Task;
  solved: boolean;
  /** Solved by the exchange that triggered this render: show the "why it works" note now. */
  justSolved: boolean;
  /** Why the check fails, for the first unsolved task only. */
  detail: string;
  hintsShown: number;
}

export function lessonHandlers(lessons: readonly Lesson[], registry: SandboxRegistry, progress: ProgressStore, render: Render) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  const load: RequestHandler = (req, res, next) => {
    const lesson = bySlug.get(req.params.slug as string);
    if (!lesson) throw new HttpError(404, 'there is no such lesson; see /lessons for the course');
    res.locals.lesson = lesson;
    next();
  };

  const list: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    const done = learner ? await progress.forLearner(learner) : new Map();
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('lessons', { lessons, progressOf: (slug: string) => done.get(slug)?.solved.size ?? 0 }));
  };

  const page: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson as Lesson;
    const learner = learnerId(req, true)!;
    const saved = await progress.forLesson(learner, lesson.slug);
    const sandbox = await lessonSandbox(learner, lesson, saved);
    const tasks = await taskStates(learner, lesson, sandbox, saved);
    const index = lessons.indexOf(lesson);
    res.setHeader('Cache-Control', 'no-store');
    res.send(
      render('lesson', {
        lesson,
        tasks,
        previous: lessons[index - 1] ?? null,
        next: lessons[index + 1] ?? null,
        panelsHtml: sandboxPanelsHtml(render, sandbox),
      }),
    );
  };

  const tasks: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson as Lesson;
    const learner = learnerId(req, false);
    if (!learner) throw new HttpError(409, 'open the lesson page first: it starts your progress');
    const saved = await progress.forLesson(learner, lesson.slug);
    const sandbox = await lessonSandbox(learner, lesson, saved);
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('partials/tasks', { lesson, tasks: await taskStates(learner, lesson, sandbox, saved) }));
  };

  const hint: RequestHandler = async (req, res) => {
    const lesson = res.locals.lesson as Lesson;
    const learner = learnerId(req, false);
    if (!learner) throw new HttpError(409, 'open the lesson page first: it starts your progress');
    const task = lesson.tasks.find((t) => t.id === req.params.task);
    if (!task) throw new HttpError(404, `lesson "${lesson.slug}" has no task "${String(req.params.task)}"`);
    const before = await progress.forLesson(learner, lesson.slug);
    await progress.showHints(learner, lesson.slug, task.id, Math.min((before.hints.get(task.id) ?? 0) + 1, task.hints.length));
    if (req.get('HX-Request') === 'true') {
      const saved = await progress.forLesson(learner, lesson.slug);
      const sandbox = await lessonSandbox(learner, lesson, saved);
      res.send(render('partials/tasks', { lesson, tasks: await taskStates(learner, lesson, sandbox, saved) }));
    }
    else res.redirect(303, `/lessons/${lesson.slug}#task-${task.id}`);
  };

  const progressPage: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    const done = learner ? await progress.forLearner(learner) : new Map();
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('progress', { lessons, progressOf: (slug: string) => done.get(slug)?.solved.size ?? 0, message: null, error: false }));
  };

  const exportProgress: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    const data = learner ? await progress.exportProgress(learner) : { format: 'cookie-lab-progress', version: 1, lessons: {} };
    res.setHeader('Content-Disposition', 'attachment; filename="cookie-lab-progress.json"');
    res.setHeader('Cache-Control', 'no-store');
    res.json(data);
  };

  /** Merges an uploaded export; a bad file re-renders the page with why, and changes nothing. */
  const importProgress: RequestHandler = async (req, res) => {
    const learner = learnerId(req, true)!;
    const page = async (status: number, message: string, error: boolean) => {
      const done = await progress.forLearner(learner);
      res.status(status).send(render('progress', { lessons, progressOf: (slug: string) => done.get(slug)?.solved.size ?? 0, message, error }));
    };
    const raw = (req.body as Record<string, unknown> | undefined)?.progress;
    if (typeof raw !== 'string' || raw.trim() === '') return page(400, 'Nothing imported: choose a progress file (or paste its JSON) first.', true);
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return page(400, 'Nothing imported: the file is not valid JSON.', true);
    }
    try {
      const count = await progress.importProgress(learner, data, lessons);
      return page(200, `Imported: ${count} solved task(s) merged into your progress.`, false);
    } catch (err) {
      if (err instanceof ProgressError) return page(400, `Nothing imported: ${err.message}.`, true);
      throw err;
    }
  };

  const resetProgress: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    if (learner) await progress.reset(learner);
    res.redirect(303, '/progress');
  };

  async function lessonSandbox(learner: string, lesson: Lesson, { sandboxId }: LessonProgress): Promise<Sandbox> {
    const existing = sandboxId ? await registry.find(sandboxId) : null;
    if (existing) return existing;
    // Several tabs may open the lesson at once: one sandbox wins, the others are dropped.
    const created = await registry.create(lesson.sandbox);
    const winner = await progress.claimSandbox(learner, lesson.slug, created.id, sandboxId);
    if (winner === created.id) return created;
    await registry.remove(created.id);
    return (await registry.find(winner)) ?? created;
  }

  /** Checks each unsolved task against what really happened; a pass is saved at once. */
  async function taskStates(learner: string, lesson: Lesson, sandbox: Sandbox, saved: LessonProgress): Promise<TaskState[]> {
    // After a reset, only what the learner does from then on counts.
    const since = saved.resetAt;
    const seen = {
      exchanges: sandbox.exchanges.filter((exchange) => Date.parse(exchange.startedAt) >= since),
      options: sandbox.options,
      probe: sandbox.probe && sandbox.probe.at >= since ? sandbox.probe.value : null,
    };
    let firstOpen = true;
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
      if (!result.passed) firstOpen = false;
    }
    return states;
  }

  return { load, list, page, tasks, hint, progressPage, exportProgress, importProgress, resetProgress };
}

/** The learner's id from the site session; with `create`, a new one (which makes the session save). */
function learnerId(req: Request, create: boolean): string | null {
  if (req.session.learnerId) return req.session.learnerId;
  return create ? startLearner(req) : null;
}

