// Share links (server/sandbox/share-link.ts). GET /lab with a link's query gives whoever opens it a
// fresh sandbox of their own with the link's options: a new id, a new store, a new cookie path,
// so never the sender's sandbox, its sessions or its cookies. A link with bad options still gives
// a sandbox (with the link's valid options) and answers 400 with its page, each refused value shown
// beside its field, so the receiver fixes it there. A link may also name a lesson task, shown
// above the sandbox (GET /sandbox/:id?lesson=…&task=…).
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http/http-error.ts';
import { presenterLocals } from '../http/presenter.ts';
import type { Render } from '../http/views.ts';
import type { Lesson } from '../lessons/schema.ts';
import { taskKeys, type TaskKeys } from '../lessons/task-keys.ts';
import type { FieldError } from '../sandbox/form.ts';
import { sandboxPanels } from '../sandbox/panels.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import { readShareQuery } from '../sandbox/share-link.ts';

export interface SharedTask {
  lesson: Lesson;
  task: Lesson['tasks'][number];
  keys: TaskKeys;
}

export function shareHandlers(registry: SandboxRegistry, lessons: readonly Lesson[], render: Render) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  /** The task `?lesson=…&task=…` names (null when it names none), or what is wrong with it. */
  function findTask(query: Request['query']): { shared: SharedTask | null; error?: FieldError } {
    const { lesson: slug, task: id } = query;
    if (slug === undefined && id === undefined) return { shared: null };
    const refuse = (message: string) => ({ shared: null, error: { field: 'task', message } });
    if (typeof slug !== 'string' || typeof id !== 'string') return refuse('a link names a lesson task with lesson=<lesson> and task=<task>, each once');
    const lesson = bySlug.get(slug);
    if (!lesson) return refuse(`there is no lesson "${slug.slice(0, 60)}" (see /lessons)`);
    const task = lesson.tasks.find((t) => t.id === id);
    if (!task) return refuse(`lesson "${lesson.slug}" has no task "${id.slice(0, 60)}"`);
    return { shared: { lesson, task, keys: taskKeys(lesson, task) } };
  }

  /** GET /lab: a fresh sandbox, with the options a share link carries (none: the article's). */
  const open: RequestHandler = async (req, res) => {
    const read = readShareQuery(req.query as Record<string, unknown>);
    const { shared, error } = findTask(req.query);
    const errors = error ? [...read.errors, error] : read.errors;
    const sandbox = await registry.create(read.options);
    if (errors.length === 0) {
      // The page keeps what the link asked for besides options; the fragment (#secret=…) is the
      // browser's: it carries it over the redirect itself.
      const page = new URLSearchParams();
      if (shared) {
        page.set('lesson', shared.lesson.slug);
        page.set('task', shared.task.id);
      }
      if (req.query.present === '1' || req.query.present === '0') page.set('present', req.query.present);
      res.redirect(303, page.size ? `${sandbox.path}?${page}` : sandbox.path);
      return;
    }
    const panels = sandboxPanels(sandbox, { values: read.values, error: null, errors });
    res.status(400).setHeader('Cache-Control', 'no-store');
    res.send(render('sandbox', { panelsHtml: render('partials/sandbox-panels', panels), sharedTask: shared, ...presenterLocals(req) }));
  };

  /** The sandbox page's `?lesson=…&task=…`: the task shown above it (res.locals.sharedTask). */
  const sharedTask: RequestHandler = (req, res, next) => {
    const { shared, error } = findTask(req.query);
    if (error) throw new HttpError(404, `${error.message}; the sandbox itself is at ${res.locals.sandbox.path}`);
    res.locals.sharedTask = shared;
    next();
  };

  return { open, sharedTask };
}
