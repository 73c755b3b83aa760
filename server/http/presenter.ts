// Presenter mode's URL form, `?present=1` (a teacher bookmarks it): read by the server, so the page
// is rendered in presenter mode before, and without, public/presenter.js (which also remembers the
// choice, and toggles it in place). See docs/presenter.md.
import type { Request } from 'express';

/** The locals views/partials/presenter.pug and the layout read. */
export function presenterLocals(req: Request): { presenting: boolean; presenterToggleHref: string } {
  const presenting = req.query.present === '1';
  // The same page with the mode switched: the link works without JavaScript.
  const url = new URL(req.originalUrl, 'http://lab.invalid');
  url.searchParams.set('present', presenting ? '0' : '1');
  return { presenting, presenterToggleHref: url.pathname + url.search };
}
