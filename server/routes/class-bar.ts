// The student's side of a class, on lesson and sandbox pages: the class bar (the class's title,
// the student's name, the teacher's message, following on or off, consent to be shown on the
// projector), the small state it polls every 2 s, and the move to where the teacher sent the class.
// A student's requests only ever change that student's own membership and page: nothing here can
// move anyone else, and nothing a student receives carries the teacher's token.
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../http/http-error.ts';
import { isHtmx } from '../http/negotiation.ts';
import type { Render } from '../http/views.ts';
import type { ClassRecord, ClassStore, StudentRecord } from '../classroom/class-store.ts';
import type { ClassFollowing } from '../classroom/follow.ts';
import type { Lesson } from '../lessons/schema.ts';

/** What the bar shows (views/partials/class-bar-content.pug). */
export interface ClassBar {
  title: string;
  message: string | null;
  ended: boolean;
  name: string;
  following: boolean;
  shareConsent: boolean;
  /** Where the teacher last sent the class, for a student at their own pace to go by hand; null: nowhere yet. */
  classAt: { href: string; words: string } | null;
  /** Where the bar's forms return without JavaScript: the page it is on. */
  back: string;
}

/** Only lesson and sandbox pages carry a bar; a form's `back` is never taken as anything else. */
function safeBack(value: unknown): string {
  return typeof value === 'string' && /^\/(lessons|sandbox)\/[A-Za-z0-9_-]+$/.test(value) ? value : '/lessons';
}

function pathOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, 'http://lab.invalid').pathname;
  } catch {
    return undefined;
  }
}

export function classBarHandlers(lessons: readonly Lesson[], classes: ClassStore, following: ClassFollowing, render: Render) {
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  /** The class's target as a plain link and words (no preset: that comes only with following). */
  function classAt(record: ClassRecord): ClassBar['classAt'] {
    const lesson = record.target ? bySlug.get(record.target.lesson) : undefined;
    if (!record.target || !lesson) return null;
    const task = record.target.task ? lesson.tasks.find((t) => t.id === record.target!.task) : undefined;
    return {
      href: `/lessons/${lesson.slug}${task ? `#task-${task.id}` : ''}`,
      words: `lesson ${lesson.number}, ${lesson.title}${task ? `: task "${task.title}"` : ''}`,
    };
  }

  async function current(req: Request): Promise<{ record: ClassRecord; student: StudentRecord } | null> {
    const learner = req.session.learnerId;
    if (!learner) return null;
    const student = await classes.membership(learner);
    if (!student) return null;
    const record = await classes.byId(student.classId);
    return record ? { record, student } : null;
  }

  function bar({ record, student }: { record: ClassRecord; student: StudentRecord }, back: string): ClassBar {
    return {
      title: record.title,
      message: record.message,
      ended: record.closedAt !== null,
      name: student.name,
      following: student.following,
      shareConsent: student.shareConsent,
      classAt: classAt(record),
      back: safeBack(back),
    };
  }

  /**
   * Where a following student should go now, or null to stay: only when the teacher sent the class
   * somewhere since this learner was last moved (or joined). Remembered in the learner's session,
   * so a reload never loses a move, and a student who follows again catches up with the class.
   */
  async function move(req: Request, { record, student }: { record: ClassRecord; student: StudentRecord }): Promise<string | null> {
    if (!student.following || record.closedAt !== null || !record.target) return null;
    const seen = req.session.classSeen?.classId === record.id ? req.session.classSeen.seq : 0;
    if (record.targetSeq <= seen) return null;
    const to = await following.destination(record, student.learnerId);
    // Noted once the destination is ready: a move that failed is tried again at the next poll.
    req.session.classSeen = { classId: record.id, seq: record.targetSeq };
    return to;
  }

  /** Lesson and sandbox pages: res.locals.classBar for the page's template (null: not in a class). */
  const pageBar: RequestHandler = async (req, res, next) => {
    const found = await current(req);
    res.locals.classBar = found ? bar(found, pathOf(req.originalUrl) ?? '') : null;
    next();
  };

  /** The bar's contents, or an HX-Redirect to where the class was sent. */
  async function answer(req: Request, res: Response, found: { record: ClassRecord; student: StudentRecord } | null) {
    res.setHeader('Cache-Control', 'no-store');
    if (!found) {
      res.send(render('partials/class-bar-content', { classBar: null }));
      return;
    }
    const to = await move(req, found);
    if (to) res.setHeader('HX-Redirect', to);
    res.send(render('partials/class-bar-content', { classBar: bar(found, pathOf(req.get('HX-Current-URL')) ?? '') }));
  }

  /** GET /class/bar: polled every 2 s by the bar (htmx 4's `every 2s`); two cached reads. */
  const state: RequestHandler = async (req, res) => answer(req, res, await current(req));

  function readSwitch(req: Request, field: 'following' | 'consent'): boolean {
    const value = (req.body as Record<string, unknown> | undefined)?.[field];
    if (value !== 'on' && value !== 'off') throw new HttpError(400, `${field} must be "on" or "off"`, field);
    return value === 'on';
  }

  async function mine(req: Request) {
    const found = await current(req);
    if (!found) throw new HttpError(409, 'you are not in a class (any more); join one at /join');
    return found;
  }

  /** After a switch: the bar again (htmx), or back to the page (a plain form). */
  async function afterSwitch(req: Request, res: Response) {
    const found = await current(req);
    if (isHtmx(req)) return answer(req, res, found);
    const to = found ? await move(req, found) : null;
    res.redirect(303, to ?? safeBack((req.body as Record<string, unknown> | undefined)?.back));
  }

  /** POST /class/following: on follows the teacher again (and catches up with the class), off stays put. */
  const setFollowing: RequestHandler = async (req, res) => {
    const on = readSwitch(req, 'following');
    const { student } = await mine(req);
    await classes.setFollowing(student.classId, student.learnerId, on);
    await afterSwitch(req, res);
  };

  /** POST /class/consent: whether the teacher may put this student's exchange on the projector (name hidden). */
  const setConsent: RequestHandler = async (req, res) => {
    const on = readSwitch(req, 'consent');
    const { student } = await mine(req);
    await classes.setShareConsent(student.classId, student.learnerId, on);
    await afterSwitch(req, res);
  };

  return { pageBar, state, setFollowing, setConsent };
}
