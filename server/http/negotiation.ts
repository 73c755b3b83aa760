// The one place that decides what form an answer takes: JSON for API clients, an HTML fragment for
// htmx, or a whole page for a plain browser request (forms and links that work without JavaScript).
import type { Request, Response } from 'express';

export type AnswerFormat = 'json' | 'fragment' | 'page';

/** htmx 4 marks every request it sends with `HX-Request: true`. */
export function isHtmx(req: Request): boolean {
  return req.get('HX-Request') === 'true';
}

/**
 * The format this request asked for. The JSON API always answers JSON; htmx gets fragments; a
 * client that prefers JSON to HTML (Accept) gets JSON; a browser gets a page.
 */
export function answerFormat(req: Request): AnswerFormat {
  if (req.originalUrl.startsWith('/api/')) return 'json';
  if (isHtmx(req)) return 'fragment';
  return req.accepts(['html', 'json']) === 'json' ? 'json' : 'page';
}

/** answerFormat, and the Vary header that tells caches the answer depends on it. */
export function negotiate(req: Request, res: Response): AnswerFormat {
  res.vary('Accept');
  res.vary('HX-Request');
  return answerFormat(req);
}
