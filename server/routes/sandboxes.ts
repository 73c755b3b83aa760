// Sandbox pages: load one by id, its page, the options form, the cookie probe, the jar (what the
// browser now sends), the restart, and clearing its cookies.
import type { RequestHandler } from 'express';
import { HttpError } from '../http/http-error.ts';
import { isHtmx, negotiate } from '../http/negotiation.ts';
import { observeJar } from '../exchange/jar.ts';
import { clearSandboxCookies } from '../sandbox/cookie-clearing.ts';
import type { MissCounter } from '../http/rate-limits.ts';
import type { Render } from '../http/views.ts';
import { validateOptions, OptionsError, SITE_COOKIE_NAME } from '../sandbox/options.ts';
import { cookieNames, hideValueOf } from '../exchange/cookie-anatomy.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { formToOptions, formValues, type FormState } from '../sandbox/form.ts';
import { sandboxPanels, sandboxPanelsHtml } from '../sandbox/panels.ts';
import { presenterLocals } from '../http/presenter.ts';

/** Turns :id into res.locals.sandbox, or a 404 (unknown ids are counted per address). */
export function loadSandbox(registry: SandboxRegistry, misses: MissCounter): RequestHandler {
  return async (req, res, next) => {
    const sandbox = await registry.find(String(req.params.id));
    // express-session matches the raw path against the cookie path: a percent-encoded id would
    // reach the right sandbox but skip its session middleware, so the raw path must hold the id as is.
    const rawSegments = (req.originalUrl.split('?')[0] ?? '').split('/');
    if (!sandbox || !rawSegments.includes(sandbox.id)) {
      await misses.miss(req, res);
      throw new HttpError(404, 'no sandbox has this id; open /lab to start a new one');
    }
    res.locals.sandbox = sandbox;
    next();
  };
}

/**
 * The number of the latest exchange (0: none yet) when "Clear my cookie" last ran, per sandbox: until
 * the next exchange, the jar's verdict is about the clearing, not a refusal of that exchange's cookie.
 */

export function sandboxPages(registry: SandboxRegistry, render: Render) {
  const page: RequestHandler = (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('sandbox', { panelsHtml: sandboxPanelsHtml(render, res.locals.sandbox), sharedTask: res.locals.sharedTask ?? null, classBar: res.locals.classBar ?? null, sandbox: res.locals.sandbox, otherSite: res.locals.otherSite ?? null, ...presenterLocals(req) }));
  };

  /** The options form: each change applies at once; a bad value re-renders the form with the message. */
  const updateFromForm: RequestHandler = async (req, res) => {
    const sandbox = res.locals.sandbox;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const htmx = isHtmx(req);
    res.vary('HX-Request');
    try {
      await registry.updateOptions(sandbox, validateOptions(formToOptions(body), sandbox.options));
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      // What the learner typed goes back into the form; only text can (a JSON body may send objects
      // that no template can print, such as {"toString": null}).
      const typed = Object.fromEntries(Object.entries(body).filter(([, value]) => typeof value === 'string'));
      const form: FormState = { values: { ...formValues(sandbox.options), ...typed }, error: { field: err.field, message: err.message } };
      const panels = sandboxPanels(sandbox, form);
      res.status(400).send(htmx ? render('partials/options-fragment', panels) : render('sandbox', { panelsHtml: render('partials/sandbox-panels', panels) }));
      return;
    }
    if (htmx) res.setHeader('HX-Trigger', 'sandbox-options').send(render('partials/options-fragment', sandboxPanels(sandbox)));
    else res.redirect(303, sandbox.path);
  };

  /**
   * An empty page under the sandbox's path. Its document.cookie is what page JavaScript under that
   * path sees (a lesson page at /lessons/... never sees the sandbox's cookie: Path=/sandbox/<id>).
   * The page it is framed in reads it; framing is allowed for our own origin only.
   */
  const frame: RequestHandler = (_req, res) => {
    const policy = String(res.getHeader('Content-Security-Policy') ?? '').replace("frame-ancestors 'none'", "frame-ancestors 'self'");
    res.setHeader('Content-Security-Policy', policy);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send('<!doctype html><html lang="en"><title>Cookie probe</title></html>');
  };

  /** Remembers what document.cookie showed the learner's page, for lesson checks. */
  const probe: RequestHandler = async (req, res) => {
    const value = (req.body as Record<string, unknown> | undefined)?.documentCookie;
    if (typeof value !== 'string' || value.length > 4096) throw new HttpError(400, 'documentCookie must be the text of document.cookie (at most 4096 characters)', 'documentCookie');
    await registry.noteProbe(res.locals.sandbox, { value, at: Date.now(), sent: cookieNames(req.headers.cookie) });
    // Lets other panels (a lesson's tasks) refresh, as after an exchange or an options change.
    if (isHtmx(req)) res.setHeader('HX-Trigger', 'sandbox-probe');
    res.status(204).end();
  };

  /**
   * What the browser now holds for the sandbox, from the browser itself: this route is under the
   * sandbox's path and runs no session middleware, so its Cookie header is every cookie the browser
   * sends there (HttpOnly ones included), untouched. The page also says what its JavaScript saw
   * (document.cookie under the same path), which lesson checks use.
   */
  const jar: RequestHandler = async (req, res) => {
    const sandbox = await registry.current(res.locals.sandbox);
    const documentCookie = readDocumentCookie(req.get('X-Document-Cookie'));
    if (documentCookie !== null) await registry.noteProbe(sandbox, { value: documentCookie, at: Date.now(), sent: cookieNames(req.headers.cookie) });
    // The verdict is about the latest exchange, so it reads the cookie by the name that exchange used.
    const name = sandbox.history.latest?.options.name ?? sandbox.options.name;
    const cookieHeader = req.headers.cookie === undefined ? null : hideValueOf(req.headers.cookie, SITE_COOKIE_NAME);
    const observation = observeJar(sandbox.history.latest, name, cookieHeader, documentCookie, sandbox.cookiesClearedAfter);
    // Which cookie the browser holds now: a request from the second site that arrives without one
    // is judged against it (server/exchange/cross-site.ts).
    await registry.noteHeld(sandbox, { name, afterExchange: sandbox.history.latest?.number ?? 0, values: observation.sent, at: Date.now() });
    res.setHeader('Cache-Control', 'no-store');
    if (negotiate(req, res) === 'json') res.json(observation);
    else res.send(render('partials/jar', { observation, sandbox }));
  };

  /** "Clear my cookie": expires every cookie the sandbox may have left in this browser, and says which. */
  const clearCookies: RequestHandler = async (req, res) => {
    const sandbox = await registry.current(res.locals.sandbox);
    // The request is under the sandbox's path: every cookie it carried (but the lab's own) is the sandbox's.
    const carried = cookieNames(req.headers.cookie).filter((name) => name !== SITE_COOKIE_NAME);
    const { headers, cleared } = clearSandboxCookies(sandbox, req.hostname ?? '', carried);
    await registry.noteCookiesCleared(sandbox);
    res.append('Set-Cookie', headers);
    res.setHeader('Cache-Control', 'no-store');
    const format = negotiate(req, res);
    if (format === 'json') res.json({ cleared });
    else if (format === 'fragment') res.setHeader('HX-Trigger', 'sandbox-cookies').send(render('partials/cookies-cleared', { cleared }));
    else res.redirect(303, sandbox.path);
  };

  /** Drops the sandbox's middleware and MemoryStore as a server restart would. */
  const restart: RequestHandler = async (req, res) => {
    const sandbox = res.locals.sandbox;
    await registry.restart(sandbox);
    if (isHtmx(req)) res.send(render('partials/restart-note', { sandbox }));
    else res.redirect(303, sandbox.path);
  };

  return { page, frame, probe, jar, restart, clearCookies, updateFromForm };
}

/** The page's document.cookie, URI-encoded into a header (headers carry no arbitrary text), or null. */
function readDocumentCookie(header: string | undefined): string | null {
  if (header === undefined) return null;
  const refuse = () => new HttpError(400, 'X-Document-Cookie must be the URI-encoded text of document.cookie (at most 4096 characters)', 'documentCookie');
  let value: string;
  try {
    value = decodeURIComponent(header);
  } catch {
    throw refuse();
  }
  if (value.length > 4096) throw refuse();
  return value;
}
