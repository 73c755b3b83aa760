// A redirect waits for the session's save. express-session saves from inside res.end, but it sends
// the headers first and holds back only the body's last byte until the store answers. A browser
// follows a 303 as soon as its headers arrive, so the next page could be read from the store before
// the save that should come first: a fresh learner would get a second, empty session, and a
// reset's note would be missing. express-session's README says as much (Session.save(): "useful
// ... for redirects"). Saving before the headers go out closes the gap; express-session then sees
// the session saved and does not save it again (it may still touch it: the database store skips a
// touch right after a write, Redis renews the key's TTL once more). The loaded copy is serialized
// on every request, GETs included: a few microseconds for the site's small session, and no
// redirect that changes the session is left out.
import type { RequestHandler, Response } from 'express';
import { serializeWithoutCookie } from './session-data.ts';

/** Goes right after the session middleware; only a session whose data changed is saved early. */
export const saveBeforeRedirect: RequestHandler = (req, res, next) => {
  const site = req.session;
  if (!site) return next();
  const loaded = serializeWithoutCookie(site);
  const redirect = res.redirect;
  res.redirect = function redirectOnceSaved(this: Response, ...args: unknown[]): void {
    const current = req.session;
    // Only the session this middleware saw loaded: another (regenerated, or a sandbox's own
    // middleware on the same request) is left to express-session's own timing.
    if (current !== site || serializeWithoutCookie(current) === loaded) return redirect.apply(this, args as Parameters<Response['redirect']>);
    // express-session renews the cookie's expiry (touch) just before its own save; this save comes
    // first, so it renews it too, or the store would keep the expiry of the last save.
    current.touch();
    current.save((err: unknown) => {
      // A store that failed answers as a failure of the site's store does anywhere (a 503 that
      // says to try again when the database or Redis is unreachable), never a redirect to a page
      // that would not find what was saved.
      if (err) return next(err);
      try {
        redirect.apply(this, args as Parameters<Response['redirect']>);
      } catch (redirectError) {
        // Inside the store's callback a throw would escape Express.
        next(redirectError);
      }
    });
  } as Response['redirect'];
  next();
};
