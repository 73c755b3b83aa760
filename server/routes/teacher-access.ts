// The teacher's token is the only key to a class: every /teach/:token route starts here. A token
// that cannot be one is not looked up; an unknown one is a 404 counted against the address (as
// unknown sandbox ids are), so nobody can walk the token space.
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http/http-error.ts';
import type { MissCounter } from '../http/rate-limits.ts';
import type { ClassStore } from '../classroom/class-store.ts';
import { looksLikeToken } from '../classroom/join-code.ts';

/** Turns :token into res.locals.classRecord (and res.locals.teacherToken), or a 404. */
export function loadTeacherClass(classes: ClassStore, misses: MissCounter): RequestHandler {
  return async (req, res, next) => {
    const token = req.params.token;
    const found = looksLikeToken(token) ? await classes.byToken(token) : null;
    if (!found) {
      await misses.miss(req, res);
      throw new HttpError(404, 'no class has this teacher link: check that the whole link was copied, or create a class at /teach');
    }
    res.locals.classRecord = found;
    res.locals.teacherToken = token as string;
    next();
  };
}

/** A request's URL as it may be logged: a teacher token never reaches a log line. */
export function loggableUrl(req: Request): string {
  return req.originalUrl.replace(/\/teach\/[^/?#]+/, '/teach/[token]');
}
