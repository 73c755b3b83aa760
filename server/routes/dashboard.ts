// The teacher's dashboard (/teach/:token/dashboard) and the class's projector view
// (/projector/:code), each a page plus a live part its poll refreshes every second. The projector
// is addressed by the join code, not the token: its URL is on the wall for the whole room to read,
// and it shows only what the teacher chose to show everyone (the bars, one exchange without a
// name), which needs no secret. A poll carries the fingerprint of what it shows (htmx's ptag
// extension, the HX-PTag header): while the class's data is unchanged the answer is a 304 that
// costs one query and no rendering. Every route runs after loadTeacherClass (or, for the
// projector, loadProjectorClass), so res.locals.classRecord is the class the token (or code)
// opens, and nothing else.
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../http/http-error.ts';
import { isHtmx } from '../http/negotiation.ts';
import type { Render } from '../http/views.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { ClassRecord, ClassStore } from '../classroom/class-store.ts';
import { Dashboard, IDLE_MS, STUCK_FAILURES, type DashboardData } from '../classroom/dashboard.ts';
import { Projection, ProjectionError, type ProjectedView } from '../classroom/projection.ts';
import { displayCode, normalizeJoinCode } from '../classroom/join-code.ts';
import type { MissCounter } from '../http/rate-limits.ts';
import type { Database } from '../db/database.ts';

/** The stuck rule as the dashboard states it under the students. */
const stuckRule = { failures: STUCK_FAILURES, idleMinutes: IDLE_MS / 60_000 };

export function dashboardHandlers(db: Database, classes: ClassStore, lessons: readonly Lesson[], render: Render) {
  const dashboard = new Dashboard(db, classes);
  const projection = new Projection(db, classes, lessons);
  const bySlug = new Map(lessons.map((lesson) => [lesson.slug, lesson]));

  const paths = (token: string, lesson: string) => {
    const base = `/teach/${token}`;
    const q = `?lesson=${encodeURIComponent(lesson)}`;
    return {
      classPage: base,
      dashboard: `${base}/dashboard`,
      live: `${base}/dashboard/live${q}`,
      bars: `${base}/dashboard/bars`,
      project: `${base}/dashboard/project`,
      stopProjecting: `${base}/dashboard/project/stop`,
    };
  };
  const projectorPaths = (record: ClassRecord) => ({ projector: `/projector/${record.code}`, projectorLive: `/projector/${record.code}/live` });

  /** Turns :code into res.locals.classRecord; an unknown code counts as a miss against the address. */
  const loadProjectorClass = (misses: MissCounter): RequestHandler => async (req, res, next) => {
    const code = normalizeJoinCode(req.params.code);
    const found = code ? await classes.byCode(code) : null;
    if (!found) {
      await misses.miss(req, res);
      throw new HttpError(404, 'no class has this code: check the code on the slide');
    }
    res.locals.classRecord = found;
    next();
  };

  /** The lesson asked for (query or form), which must be one of the class's; by default where the class was sent, else its first. */
  function chosenLesson(record: ClassRecord, asked: unknown): Lesson {
    if (asked === undefined || asked === '') {
      const lesson = barsLesson(record);
      if (!lesson) throw new HttpError(404, 'this class covers no lesson this lab has');
      return lesson;
    }
    if (typeof asked !== 'string' || !record.lessons.includes(asked) || !bySlug.has(asked)) {
      // Only a string is quoted back: String() of a JSON object whose own "toString" is no function throws.
      const named = typeof asked === 'string' ? `the lesson "${asked.slice(0, 80)}"` : 'that lesson (a lesson is named by its slug)';
      throw new HttpError(400, `this class does not cover ${named}; choose one of its lessons`, 'lesson');
    }
    return bySlug.get(asked)!;
  }

  /** The lesson whose bars the projector shows: where the class was last sent, else its first lesson. */
  function barsLesson(record: ClassRecord): Lesson | null {
    const slug = record.target && record.lessons.includes(record.target.lesson) ? record.target.lesson : record.lessons[0];
    return (slug && bySlug.get(slug)) || null;
  }

  function lessonChoices(record: ClassRecord) {
    return record.lessons.flatMap((slug) => {
      const lesson = bySlug.get(slug);
      return lesson ? [{ slug, title: lesson.title }] : [];
    });
  }

  /** Answers 304 when the poll already shows this fingerprint; otherwise sets it for the answer. */
  function unchanged(req: Request, res: Response, fingerprint: string): boolean {
    res.setHeader('Cache-Control', 'no-store');
    res.vary('HX-Request');
    if (req.get('HX-PTag') === fingerprint) {
      res.status(304).end();
      return true;
    }
    res.setHeader('HX-PTag', fingerprint);
    return false;
  }

  /** `current`: the class as it is now (read by its token this request, or again after a control changed it). */
  async function dashboardLocals(current: ClassRecord, token: string, lesson: Lesson, notice: string | null = null) {
    const [data, projected]: [DashboardData, ProjectedView | null] = await Promise.all([dashboard.build(current, lesson), projection.current(current)]);
    return { classRecord: current, data, projected, notice, barsLesson: barsLesson(current), joinCode: displayCode(current.code), paths: { ...paths(token, lesson.slug), ...projectorPaths(current) }, lessonChoices: lessonChoices(current), stuckRule };
  }

  const page: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const lesson = chosenLesson(record, req.query.lesson);
    const fingerprint = await dashboard.fingerprint(record, lesson.slug);
    res.setHeader('Cache-Control', 'no-store');
    // Its address carries the token: no request from this page names it in a Referer (as the class page).
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.send(render('teach/dashboard', { ...(await dashboardLocals(record, res.locals.teacherToken, lesson)), fingerprint }));
  };

  const live: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const lesson = chosenLesson(record, req.query.lesson);
    if (unchanged(req, res, await dashboard.fingerprint(record, lesson.slug))) return;
    res.send(render('teach/dashboard-live', await dashboardLocals(record, res.locals.teacherToken, lesson)));
  };

  /** After a control: htmx gets the live part again (with a notice if it failed), a plain form goes back to the page. */
  async function afterControl(req: Request, res: Response, lesson: Lesson, notice: string | null) {
    // The class as the control left it (bars, projection).
    const record = res.locals.classRecord;
    const locals = await dashboardLocals((await classes.byId(record.id)) ?? record, res.locals.teacherToken, lesson, notice);
    res.setHeader('Cache-Control', 'no-store');
    if (notice) res.status(409);
    if (isHtmx(req)) return void res.send(render('teach/dashboard-live', locals));
    if (notice) return void res.send(render('teach/dashboard', { ...locals, fingerprint: '' }));
    res.redirect(303, `${locals.paths.dashboard}?lesson=${encodeURIComponent(lesson.slug)}`);
  }

  const bars: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const lesson = chosenLesson(record, field(req, 'lesson'));
    const show = field(req, 'show');
    if (show !== '0' && show !== '1') throw new HttpError(400, 'say whether to show the bars (show=1) or hide them (show=0)', 'show');
    await classes.setShowBars(record.id, show === '1');
    await afterControl(req, res, lesson, null);
  };

  const project: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const lesson = chosenLesson(record, field(req, 'lesson'));
    const task = field(req, 'task');
    const group = field(req, 'group');
    if (typeof task !== 'string' || !lesson.tasks.some((t) => t.id === task)) throw new HttpError(400, `lesson "${lesson.slug}" has no such task`, 'task');
    if (typeof group !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(group)) throw new HttpError(400, 'name a group of failed checks from the dashboard', 'group');
    let notice: string | null = null;
    try {
      await projection.projectGroup(record, lesson.slug, task, group);
    } catch (err) {
      if (!(err instanceof ProjectionError)) throw err;
      notice = err.message;
    }
    await afterControl(req, res, lesson, notice);
  };

  const stopProjecting: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const lesson = chosenLesson(record, field(req, 'lesson'));
    await classes.setProjected(record.id, null);
    await afterControl(req, res, lesson, null);
  };

  /** `current`: the class as the projector's request has just read it by its code. */
  async function projectorLocals(current: ClassRecord, req: Request) {
    const barsOf = current.showBars ? barsLesson(current) : null;
    const [data, projected] = await Promise.all([barsOf ? dashboard.build(current, barsOf) : null, projection.current(current)]);
    return {
      classRecord: current,
      // Counts only: the projector never receives a student's name, not even hidden in the page.
      bars: data ? { lesson: data.lesson, total: data.students.length, tasks: data.tasks.map((t) => ({ number: t.number, title: t.title, solvedBy: t.solvedBy })) } : null,
      projected,
      joinCode: displayCode(current.code),
      joinUrl: `${req.protocol}://${req.get('host') ?? 'this lab'}/join`,
      paths: projectorPaths(current),
    };
  }

  /** What the projector's poll compares: the bars' lesson data and the class's own fields. */
  function projectorFingerprint(record: ClassRecord): Promise<string> {
    return dashboard.fingerprint(record, barsLesson(record)?.slug ?? '');
  }

  const projector: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    const fingerprint = await projectorFingerprint(record);
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('teach/projector', { ...(await projectorLocals(record, req)), fingerprint }));
  };

  const projectorLive: RequestHandler = async (req, res) => {
    const record = res.locals.classRecord;
    if (unchanged(req, res, await projectorFingerprint(record))) return;
    res.send(render('teach/projector-live', await projectorLocals(record, req)));
  };

  return { loadProjectorClass, page, live, bars, project, stopProjecting, projector, projectorLive };
}

/** A form field (urlencoded or JSON body), or undefined. */
function field(req: Request, name: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? body[name] : undefined;
}
