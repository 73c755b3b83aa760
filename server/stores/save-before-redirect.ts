// A redirect waits for the session's save. express-session saves from inside res.end, but it sends
// the headers first and holds back only the body's last byte until the store answers. A browser
// follows a 303 as soon as its headers arrive, so the next page could be read from the store before
// the save that should come first: a fresh learner would get a second, empty session, and a
// reset's note would be missing. express-session's README says as much (Session.save(): "useful
// ... for redirects"). Saving before the headers go out closes the gap; express-session then sees
// the session saved and does not write it again.
import type { RequestHandler, Response } from 'express';
import type session from 'express-session';

/** The session's data as express-session's own hash() reads it: everything but its cookie. */
function sessionData(sess: session.Session): string {
  return JSON.stringify(sess, function (this: unknown, key, value: unknown) {
    return this === sess && key === 'cookie' ? undefined : value;
  });
}

/** Goes right after the session middleware; only a session whose data changed is saved early. */
export const saveBeforeRedirect: RequestHandler = (req, res, next) => {
  if (!req.session) return next();
  const loaded = sessionData(req.session);
  const redirect = res.redirect;
  res.redirect = function redirectOnceSaved(this: Response, ...args: unknown[]): void {
    const current = req.session;
    if (!current || sessionData(current) === loaded) return redirect.apply(this, args as Parameters<Response['redirect']>);
    current.save((err: unknown) => {
      // A store that failed answers as the store's failure does everywhere else (a 503 that says
      // to try again), never a redirect to a page that would not find what was saved.
      if (err) next(err);
      else redirect.apply(this, args as Parameters<Response['redirect']>);
    });
  } as Response['redirect'];
  next();
};
