// The learner's progress page: what they solved, exported as a file, imported back, or reset.
import type { RequestHandler } from 'express';
import type { Lesson } from '../lessons/schema.ts';
import { ProgressError, solvedCounter, type ProgressStore } from '../lessons/progress.ts';
import type { Render } from '../http/views.ts';
import { learnerId } from '../stores/site-session.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import { putSandboxBack } from '../lessons/lesson-reset.ts';
import { parseJsonText } from '../http/json-text.ts';
import type { PredictionStore } from '../lessons/predictions.ts';

/** `wholeCourse`: every task, also those this lab does not offer: a file from a lab with Redis imports here whole. */
export function progressHandlers(lessons: readonly Lesson[], progress: ProgressStore, registry: SandboxRegistry, predictions: PredictionStore, render: Render, wholeCourse: readonly Lesson[] = lessons) {
  const show: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    const done = learner ? await progress.forLearner(learner) : new Map();
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('progress', { lessons, progressOf: solvedCounter(lessons, done), message: null, error: false }));
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
      res.status(status).send(render('progress', { lessons, progressOf: solvedCounter(lessons, done), message, error }));
    };
    const raw = (req.body as Record<string, unknown> | undefined)?.progress;
    if (typeof raw !== 'string' || raw.trim() === '') return page(400, 'Nothing imported: choose a progress file (or paste its JSON) first.', true);
    let data: unknown;
    try {
      data = parseJsonText(raw);
    } catch {
      return page(400, 'Nothing imported: the file is not valid JSON.', true);
    }
    try {
      const count = await progress.importProgress(learner, data, wholeCourse);
      return page(200, `Imported: ${count} solved task(s) merged into your progress.`, false);
    } catch (err) {
      if (err instanceof ProgressError) return page(400, `Nothing imported: ${err.message}.`, true);
      throw err;
    }
  };

  /** Reopens every task, and puts each lesson's sandbox back as its lesson starts it (cookies cleared). */
  const resetProgress: RequestHandler = async (req, res) => {
    const learner = learnerId(req, false);
    if (learner) {
      for (const [slug, saved] of await progress.forLearner(learner)) {
        const lesson = lessons.find((l) => l.slug === slug);
        const sandbox = lesson && saved.sandboxId ? await registry.find(saved.sandboxId) : null;
        if (lesson && sandbox) {
          res.append('Set-Cookie', (await putSandboxBack(registry, sandbox, lesson, req.hostname ?? '')).headers);
          await predictions.forget(sandbox.id);
        }
      }
      await progress.reset(learner);
    }
    res.redirect(303, '/progress');
  };

  return { show, exportProgress, importProgress, resetProgress };
}
