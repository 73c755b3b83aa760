// Every error becomes a clear answer in the form the client asked for (JSON, an htmx fragment or a
// page), never a stack trace; an error after the headers went out is only logged.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { negotiate } from './negotiation.ts';
import { HttpError } from './http-error.ts';
import { OptionsError } from '../sandbox/options.ts';
import { DatabaseUnavailable } from '../db/connection.ts';
import type { Render } from './views.ts';
import { loggableUrl } from '../routes/teacher-access.ts';

/** The last route of the app and of each mounted router (whose req.path is relative to it). */
export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `nothing at ${req.method} ${loggableUrl(req).split('?')[0]}`);
};

export function errorHandler(render: Render): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // express-session reports a failed save after the response has started.
      console.error(`error after response started (${req.method} ${loggableUrl(req)}):`, err instanceof Error ? err.message : err);
      if (!res.writableEnded) res.end();
      return;
    }
    const { status, field, message } = describe(err);
    if (err instanceof DatabaseUnavailable) {
      // Logged once per request, in one line: an outage is not a bug, and a stack per request would bury the log.
      console.error(`${req.method} ${loggableUrl(req)}: 503, ${(err.cause as Error).message}`);
      res.setHeader('Retry-After', '5');
    } else if (status >= 500) console.error(`${req.method} ${loggableUrl(req)} failed:`, err);
    res.status(status).setHeader('Cache-Control', 'no-store');
    const format = negotiate(req, res);
    if (format === 'json') {
      res.json({ error: { ...(field ? { field } : {}), message } });
    } else if (format === 'fragment') {
      res.type('html').send(render('partials/error-fragment', { status, message, field }));
    } else {
      res.type('html').send(render('error', { status, message }));
    }
  };
}

function describe(err: unknown): { status: number; field?: string; message: string } {
  if (err instanceof OptionsError) return { status: 400, field: err.field, message: err.message };
  if (err instanceof DatabaseUnavailable) return { status: 503, message: err.message };
  if (err instanceof HttpError) return { status: err.status, field: err.field, message: err.message };
  // body-parser's errors carry a status and say whether their message may be shown.
  const e = err as { status?: number; expose?: boolean; type?: string; message?: string };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const message =
      e.type === 'entity.too.large' ? 'the request body is too large' : e.type === 'entity.parse.failed' ? 'the request body is not valid JSON' : e.expose && e.message ? e.message : 'bad request';
    return { status: e.status, message };
  }
  return { status: 500, message: 'something went wrong on our side; it has been logged' };
}
