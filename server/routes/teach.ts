// The teacher's side of a class: /teach creates one; /teach/:token is the private page with the
// join code and the controls (send the class somewhere, a message, remove or reset students,
// reset the class, close and reopen it, export the results). Every /teach/:token route starts with
// loadTeacherClass (server/routes/teacher-access.ts): without the token nothing here is reachable.
// Forms post and redirect back (no JavaScript needed); a refused form re-renders the page with
// the reason beside the form, and changes nothing.
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../http/http-error.ts';
import type { Render } from '../http/views.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { ProgressStore } from '../lessons/progress.ts';
import type { ClassRecord, ClassStore, ClassTarget } from '../classroom/class-store.ts';
import { ClassTextError, MAX_MESSAGE_LENGTH, MAX_TITLE_LENGTH, cleanMessage, cleanTitle } from '../classroom/class-text.ts';
import { displayCode } from '../classroom/join-code.ts';
import { exportFileName, resultRows, toCsv, toJson } from '../classroom/export.ts';
import { OptionsError, validateOptions, type SandboxOptions } from '../sandbox/options.ts';
import { JsonTextError, parseJsonText } from '../http/json-text.ts';

/** What a redirect back to the teacher's page says happened (?done=…): fixed words, never echoed input. */
const NOTICES: Record<string, string> = {
  created: 'Class created. Give your students the code or the join link; keep this page\'s address to yourself: it is the key to the class.',
  sent: 'Sent: students who follow the class are on their way (within a few seconds).',
  message: 'Message shown to the class.',
  cleared: 'Message cleared.',
  removed: 'Student removed from the class; their own progress stays theirs.',
  'reset-student': "That student's progress in this class's lessons is reset.",
  'reset-class': "Every student's progress in this class's lessons is reset.",
  closed: 'Class closed: the code no longer works, and students see that the class has ended. The results stay here.',
  reopened: 'Class reopened: the code works again.',
};

const MAX_PRESET_LENGTH = 2000;

type FormErrors = Partial<Record<'send' | 'message' | 'reset', string>>;

export interface TeachDependencies {
  lessons: readonly Lesson[];
  classes: ClassStore;
  progress: ProgressStore;
  render: Render;
  /** Refuses options this lab cannot run (a Redis store without Redis): the registry's check. */
  checkOptions: (options: SandboxOptions) => SandboxOptions;
}

export function teachHandlers({ lessons, classes, progress, render, checkOptions }: TeachDependencies) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  // ------------------------------------------------------------------------------------------
  // Creating a class

  const newClass: RequestHandler = (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('teach/new', { lessons, values: { title: '', lessons: [] }, errors: {}, maxTitle: MAX_TITLE_LENGTH }));
  };

  const create: RequestHandler = async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = {};
    let title = '';
    try {
      title = cleanTitle(body.title);
    } catch (err) {
      if (!(err instanceof ClassTextError)) throw err;
      errors.title = err.message;
    }
    const chosen = readLessonList(body.lessons);
    if (typeof chosen === 'string') errors.lessons = chosen;
    if (Object.keys(errors).length || typeof chosen === 'string') {
      const typedLessons = Array.isArray(body.lessons) ? body.lessons.filter((v) => typeof v === 'string') : typeof body.lessons === 'string' ? [body.lessons] : [];
      res.status(400).setHeader('Cache-Control', 'no-store');
      res.send(render('teach/new', { lessons, values: { title: typeof body.title === 'string' ? body.title.slice(0, 200) : '', lessons: typedLessons }, errors, maxTitle: MAX_TITLE_LENGTH }));
      return;
    }
    const { token } = await classes.create(title, chosen);
    res.redirect(303, `/teach/${token}?done=created`);
  };

  /** The lessons a class covers, in course order; or what is wrong with the choice. */
  function readLessonList(value: unknown): string[] | string {
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    if (list.length === 0) return 'choose at least one lesson for the class';
    if (list.length > lessons.length) return 'choose each lesson once';
    for (const slug of list) {
      // Never String() a value from the body: JSON may send {"toString": null}, which throws.
      if (typeof slug !== 'string') return 'each lesson must be named by its slug, as text; choose from the list';
      if (!bySlug.has(slug)) return `there is no lesson "${slug.slice(0, 60)}"; choose from the list`;
    }
    return lessons.filter((lesson) => list.includes(lesson.slug)).map((lesson) => lesson.slug);
  }

  // ------------------------------------------------------------------------------------------
  // The teacher's page

  async function showPage(req: Request, res: Response, status: number, errors: FormErrors = {}, values: Record<string, string> = {}) {
    const record = res.locals.classRecord;
    const token = res.locals.teacherToken;
    const students = await classes.students(record.id);
    const results = await classes.results(record.id);
    const covered = lessons.filter((lesson) => record.lessons.includes(lesson.slug));
    const taskCount = covered.reduce((n, lesson) => n + lesson.tasks.length, 0);
    const solvedBy = new Map<string, number>();
    for (const row of results.solved) if (record.lessons.includes(row.lesson)) solvedBy.set(row.studentId, (solvedBy.get(row.studentId) ?? 0) + 1);
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    res.status(status).setHeader('Cache-Control', 'no-store');
    // The page's address is the key to the class: it must not be kept by a shared cache, nor sent on.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.send(
      render('teach/class', {
        record,
        base: `/teach/${token}`,
        code: displayCode(record.code),
        joinPath: `/join/${record.code}`,
        joinUrl: `${req.protocol}://${req.get('host') ?? 'localhost'}/join/${record.code}`,
        lessons: covered,
        target: describeTarget(record),
        students: students.map((student) => ({ ...student, solved: solvedBy.get(student.studentId) ?? 0 })),
        taskCount,
        notice: done ?? null,
        errors,
        values,
        maxMessage: MAX_MESSAGE_LENGTH,
      }),
    );
  }

  const page: RequestHandler = (req, res) => showPage(req, res, 200);

  function describeTarget(record: ClassRecord): string | null {
    const target = record.target;
    if (!target) return null;
    const lesson = bySlug.get(target.lesson);
    const task = target.task ? lesson?.tasks.find((t) => t.id === target.task) : undefined;
    let words = `Lesson ${lesson?.number ?? '?'}: ${lesson?.title ?? target.lesson}`;
    if (task) words += `, task "${task.title}"`;
    if (target.preset) words += `, with the preset ${JSON.stringify(target.preset)}`;
    return words;
  }

  const back = (res: Response, done: string) => res.redirect(303, `/teach/${res.locals.teacherToken}?done=${done}`);

  // ------------------------------------------------------------------------------------------
  // Controls

  /** Sends the class to a lesson, or one of its tasks, optionally with sandbox options (a preset). */
  const send: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { where: typeof body.where === 'string' ? body.where : '', preset: typeof body.preset === 'string' ? body.preset.slice(0, MAX_PRESET_LENGTH + 1) : '' };
    const refuse = (message: string) => showPage(req, res, 400, { send: message }, values);
    if (record.closedAt !== null) return showPage(req, res, 409, { send: 'the class is closed: reopen it before sending it anywhere' }, values);
    if (typeof body.where !== 'string' || !body.where) return refuse('choose where to send the class');
    const [slug, taskId, extra] = body.where.split('/');
    const lesson = slug ? bySlug.get(slug) : undefined;
    if (!lesson || extra !== undefined || !record.lessons.includes(lesson.slug)) return refuse('choose a lesson or task of this class from the list');
    if (taskId !== undefined && !lesson.tasks.some((t) => t.id === taskId)) return refuse(`lesson "${lesson.slug}" has no such task; choose from the list`);
    const target: ClassTarget = { lesson: lesson.slug, ...(taskId ? { task: taskId } : {}) };
    const presetText = values.preset.trim();
    if (presetText) {
      if (presetText.length > MAX_PRESET_LENGTH) return refuse(`a preset is at most ${MAX_PRESET_LENGTH} characters of JSON`);
      let preset: unknown;
      try {
        preset = parseJsonText(presetText);
      } catch (err) {
        if (!(err instanceof JsonTextError)) throw err;
        return refuse('the preset is not valid JSON: write the options as express-session takes them, e.g. {"cookie": {"secure": true}}');
      }
      try {
        checkOptions(validateOptions(preset));
      } catch (err) {
        if (!(err instanceof OptionsError)) throw err;
        return refuse(`the preset's ${err.field}: ${err.message}`);
      }
      // The options as the teacher wrote them: each student's sandbox keeps what the preset does not name.
      target.preset = preset as Record<string, unknown>;
    }
    await classes.send(record.id, target);
    back(res, 'sent');
  };

  /** Shows a message to the whole class (action=show), or clears it (action=clear). */
  const message: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.action === 'clear') {
      await classes.setMessage(record.id, null);
      return back(res, 'cleared');
    }
    const values = { message: typeof body.message === 'string' ? body.message.slice(0, 1000) : '' };
    if (record.closedAt !== null) return showPage(req, res, 409, { message: 'the class is closed: reopen it before sending a message' }, values);
    let text: string;
    try {
      text = cleanMessage(body.message);
    } catch (err) {
      if (!(err instanceof ClassTextError)) throw err;
      return showPage(req, res, 400, { message: err.message }, values);
    }
    await classes.setMessage(record.id, text);
    back(res, 'message');
  };

  /** The student :student of this class (never another class's), or a 404. */
  async function studentOf(req: Request, res: Response) {
    const student = await classes.student(res.locals.classRecord.id, String(req.params.student));
    if (!student) throw new HttpError(404, 'this class has no such student (removed already?); reload the class page');
    return student;
  }

  /** Progress in this class's lessons only: what a learner did elsewhere stays as it is. */
  async function resetLearner(record: ClassRecord, learnerId: string) {
    // Its failed checks from before count no more either (ClassStore.failures reads the reset).
    for (const lesson of record.lessons) await progress.resetLesson(learnerId, lesson);
  }

  const removeStudent: RequestHandler = async (req, res) => {
    const student = await studentOf(req, res);
    await classes.remove(res.locals.classRecord.id, student.studentId);
    back(res, 'removed');
  };

  const resetStudent: RequestHandler = async (req, res) => {
    const student = await studentOf(req, res);
    await resetLearner(res.locals.classRecord, student.learnerId);
    back(res, 'reset-student');
  };

  const resetClass: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.confirm !== 'yes') return showPage(req, res, 400, { reset: 'tick "Yes, reset every student" to confirm: this reopens every task of this class\'s lessons for everyone' });
    for (const student of await classes.students(record.id)) await resetLearner(record, student.learnerId);
    back(res, 'reset-class');
  };

  const close: RequestHandler = async (_req, res) => {
    await classes.close(res.locals.classRecord.id);
    back(res, 'closed');
  };

  const reopen: RequestHandler = async (_req, res) => {
    await classes.reopen(res.locals.classRecord.id);
    back(res, 'reopened');
  };

  // ------------------------------------------------------------------------------------------
  // Export

  async function rows(record: ClassRecord) {
    return resultRows(record, lessons, await classes.students(record.id), await classes.results(record.id));
  }

  const exportCsv: RequestHandler = async (_req, res) => {
    const record = res.locals.classRecord;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="${exportFileName(record, 'csv')}"`);
    res.type('text/csv; charset=utf-8').send(toCsv(await rows(record)));
  };

  const exportJson: RequestHandler = async (_req, res) => {
    const record = res.locals.classRecord;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="${exportFileName(record, 'json')}"`);
    res.json(toJson(record, await rows(record)));
  };

  return { newClass, create, page, send, message, removeStudent, resetStudent, resetClass, close, reopen, exportCsv, exportJson };
}
