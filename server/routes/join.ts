// A student joins a class: /join (type the code) or /join/CODE (a link or QR code on the slide),
// then a display name; no account. The student is the learner of the lab's own session, so the
// same browser joining again is the same student, across reloads and server restarts. Every
// refusal re-renders the form with the reason (and what was typed, escaped), and changes nothing.
import type { Request, RequestHandler, Response } from 'express';
import type { Render } from '../http/views.ts';
import type { MissCounter } from '../http/rate-limits.ts';
import { ClassError, type ClassRecord, type ClassStore } from '../classroom/class-store.ts';
import { displayCode, normalizeJoinCode } from '../classroom/join-code.ts';
import { MAX_NAME_LENGTH, NameError, cleanName } from '../classroom/student-name.ts';
import type { ClassFollowing } from '../classroom/follow.ts';
import { learnerId } from '../stores/site-session.ts';

interface JoinForm {
  code: string;
  name: string;
  /** The class the code names, once found (shown as "Joining …"). */
  joining: ClassRecord | null;
  /** This browser is already in that class under this name. */
  joinedAs: string | null;
  error: string | null;
}

export function joinHandlers(classes: ClassStore, following: ClassFollowing, unknownCodes: MissCounter, render: Render) {
  function showForm(res: Response, status: number, form: Partial<JoinForm>) {
    res.status(status).setHeader('Cache-Control', 'no-store');
    res.send(render('join', { code: '', name: '', joining: null, joinedAs: null, error: null, maxName: MAX_NAME_LENGTH, ...form }));
  }

  /** The class a typed code names, or the form re-rendered with why not (null). */
  async function findClass(req: Request, res: Response, typed: unknown, name: string): Promise<ClassRecord | null> {
    const shown = typeof typed === 'string' ? typed.slice(0, 40) : '';
    const code = normalizeJoinCode(typed);
    if (!code) {
      showForm(res, 400, { code: shown, name, error: 'a join code is six letters and digits, like K7Q-4XM (no 0, O, 1 or I); check it with your teacher' });
      return null;
    }
    const record = await classes.byCode(code);
    if (!record) {
      // Counted per address, so nobody can walk through the codes (the miss throws a 429 past the limit).
      await unknownCodes.miss(req, res);
      showForm(res, 404, { code: displayCode(code), name, error: `no class has the code ${displayCode(code)}; check it with your teacher` });
      return null;
    }
    if (record.closedAt !== null) {
      showForm(res, 410, { code: displayCode(code), name, error: `the class "${record.title}" has ended, so its code no longer works; ask your teacher` });
      return null;
    }
    return record;
  }

  /** GET /join: the empty form. */
  const form: RequestHandler = (_req, res) => showForm(res, 200, {});

  /** GET /join/:code: the form with the code filled in and the class named, or why the code does not work. */
  const formWithCode: RequestHandler = async (req, res) => {
    const record = await findClass(req, res, req.params.code, '');
    if (!record) return;
    const learner = learnerId(req, false);
    const student = learner ? await classes.membership(learner) : null;
    const joinedAs = student && student.classId === record.id ? student.name : null;
    showForm(res, 200, { code: displayCode(record.code), name: joinedAs ?? '', joining: record, joinedAs });
  };

  /** POST /join, step one: the code names an open class (res.locals.joinClass), before the per-class limit. */
  const readCode: RequestHandler = async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.slice(0, 200) : '';
    const record = await findClass(req, res, body.code, name);
    if (!record) return;
    res.locals.joinClass = record;
    next();
  };

  /** POST /join, step two: the student is in; off to where the class is. */
  const join: RequestHandler = async (req, res) => {
    const record = res.locals.joinClass!;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const typedName = typeof body.name === 'string' ? body.name.slice(0, 200) : '';
    const refuse = (status: number, error: string) => showForm(res, status, { code: displayCode(record.code), name: typedName, joining: record, error });
    const learner = learnerId(req, false);
    const existing = learner ? await classes.membership(learner) : null;
    // The same browser joining again is the same student, whatever name it types this time.
    if (!existing || existing.classId !== record.id) {
      let name: string;
      try {
        name = cleanName(body.name);
      } catch (err) {
        if (!(err instanceof NameError)) throw err;
        return refuse(400, err.message);
      }
      try {
        await classes.join(record.id, learner ?? learnerId(req, true)!, name);
      } catch (err) {
        if (!(err instanceof ClassError)) throw err;
        if (err.reason === 'name-taken') return refuse(409, err.message);
        if (err.reason === 'full') return refuse(409, err.message);
        if (err.reason === 'closed') return refuse(410, err.message);
        return refuse(404, 'this class no longer exists; ask your teacher for a new code');
      }
    }
    // A late joiner lands where the class is; from now on only newer sends move them.
    req.session.classSeen = { classId: record.id, seq: record.targetSeq };
    res.redirect(303, await following.destination(record, req.session.learnerId!));
  };

  return { form, formWithCode, readCode, join };
}

declare module 'express-session' {
  interface SessionData {
    /** The latest send of the learner's class that moved (or placed) them: newer ones move a follower. */
    classSeen: { classId: string; seq: number };
  }
}
