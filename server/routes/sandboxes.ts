// Sandbox handlers: load one by id, its page, its options (form and JSON), its exchanges.
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http-error.ts';
import type { MissCounter } from '../limits.ts';
import { articleOptions, validateOptions, OptionsError } from '../sandbox-options.ts';
import type { Sandbox, SandboxRegistry } from '../sandbox-registry.ts';
import { formToOptions } from '../form-options.ts';
import { formValues, sandboxPanels, sandboxPanelsHtml } from '../sandbox-view.ts';
import type { Render } from '../views.ts';
import type { Exchange } from '../exchange.ts';

export interface FormState {
  values: Record<string, unknown>;
  error: { field: string; message: string } | null;
}

export function sandboxHandlers(registry: SandboxRegistry, render: Render, misses: MissCounter) {
  /** Turns :id into res.locals.sandbox, or a 404. */
  const load: RequestHandler = async (req, res, next) => {
    const id = req.params.id as string;
    const sandbox = await registry.find(id);
    // express-session matches the raw path against the cookie path: a percent-encoded id would
    // reach the right sandbox but skip its session middleware, so the raw path must hold the id as is.
    const rawSegments = (req.originalUrl.split('?')[0] ?? '').split('/');
    if (!sandbox || !rawSegments.includes(sandbox.id)) {
      misses.miss(req, res);
      throw new HttpError(404, 'no sandbox has this id; open /lab to start a new one');
    }
    res.locals.sandbox = sandbox;
    next();
  };

  const panels = (sandbox: Sandbox, form?: FormState) => ({ ...sandboxPanels(sandbox), ...(form ? { form } : {}) });

  const page: RequestHandler = (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('sandbox', { panelsHtml: sandboxPanelsHtml(render, res.locals.sandbox as Sandbox) }));
  };

  const createAndRedirect: RequestHandler = async (_req, res) => {
    const sandbox = await registry.create({ ...articleOptions });
    res.redirect(303, sandbox.path);
  };

  /** The options form: each change applies at once; a bad value re-renders the form with the message. */
  const updateFromForm: RequestHandler = async (req, res) => {
    const sandbox = res.locals.sandbox as Sandbox;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const htmx = req.get('HX-Request') === 'true';
    res.vary('HX-Request');
    try {
      await registry.updateOptions(sandbox, validateOptions(formToOptions(body), sandbox.options));
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      const form: FormState = { values: { ...formValues(sandbox.options), ...body }, error: { field: err.field, message: err.message } };
      res.status(400).send(htmx ? render('partials/options-fragment', panels(sandbox, form)) : render('sandbox', { panelsHtml: render('partials/sandbox-panels', panels(sandbox, form)) }));
      return;
    }
    if (htmx) res.setHeader('HX-Trigger', 'sandbox-options').send(render('partials/options-fragment', panels(sandbox)));
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
  const probe: RequestHandler = (req, res) => {
    const value = (req.body as Record<string, unknown> | undefined)?.documentCookie;
    if (typeof value !== 'string' || value.length > 4096) throw new HttpError(400, 'documentCookie must be the text of document.cookie (at most 4096 characters)', 'documentCookie');
    (res.locals.sandbox as Sandbox).probe = { value, at: Date.now() };
    res.status(204).end();
  };

  /** Drops the sandbox's middleware and MemoryStore as a server restart would. */
  const restart: RequestHandler = (req, res) => {
    const sandbox = res.locals.sandbox as Sandbox;
    registry.restart(sandbox);
    if (req.get('HX-Request') === 'true') res.send(render('partials/restart-note', { sandbox }));
    else res.redirect(303, sandbox.path);
  };

  const create: RequestHandler = async (req, res) => {
    const options = validateOptions(req.body ?? {});
    const sandbox = await registry.create(options);
    res.status(201).location(sandbox.path).json({ id: sandbox.id, options: sandbox.options, url: absoluteUrl(req, sandbox.path) });
  };

  const showOptions: RequestHandler = (_req, res) => {
    res.json((res.locals.sandbox as Sandbox).options);
  };

  const updateOptions: RequestHandler = async (req, res) => {
    const sandbox = res.locals.sandbox as Sandbox;
    await registry.updateOptions(sandbox, validateOptions(req.body ?? {}, sandbox.options));
    res.json(sandbox.options);
  };

  const listExchanges: RequestHandler = (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ exchanges: (res.locals.sandbox as Sandbox).exchanges satisfies Exchange[] });
  };

  /** The htmx body for a sandbox request: the inspector, plus the panels that follow from it. */
  const renderExchange = (sandbox: Sandbox, exchange: Exchange) => render('partials/exchange-fragment', { ...panels(sandbox), latest: exchange });

  return { load, page, frame, probe, restart, createAndRedirect, updateFromForm, create, showOptions, updateOptions, listExchanges, renderExchange };
}

function absoluteUrl(req: Request, path: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${path}`;
}

