// The second site's page and the sandbox routes it sends to (issue 13, "cross-site, for real").
// The page is served under the other host name (server/http/other-site.ts); its requests reach
// the sandbox under the learner's own host, through the sandbox's real express-session middleware
// and recorder (action "visit"), and each fills a cell of the grid: request kind × SameSite of the
// cookie the browser held, green when the Cookie header that arrived carried it.
//
// CORS: the lab's routes answer none (no Access-Control-* header, no preflight). The one
// exception is here: a fetch from the second site to /sandbox/:id/from-other-site/fetch*, whose
// answer carries what the sandbox's own corsOrigin/corsCredentials options say, so a learner can
// watch a browser apply them. It is scoped to one sandbox's path, its answer names no cookie
// value or session id, and the action it runs changes no session data (a visit), so a page of any
// origin that the learner lets read it learns only what the learner's own sandbox page shows.
import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.ts';
import type { Render } from '../http/views.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { Exchange } from '../sandbox/model.ts';
import type { ExchangeOutput, ForeignAnswer } from '../exchange/recorder.ts';
import { HttpError } from '../http/http-error.ts';
import { exchangeFragment } from '../sandbox/panels.ts';
import { hasOtherSite, labOriginFor, otherSiteFor, siteOf } from '../http/other-site.ts';
import { CROSS_SITE_KINDS, GRID_SAME_SITE, KIND_LABELS, cellFor, explainCell, fetchMetadata, isCrossSiteKind, type CrossSiteArrival, type CrossSiteKind } from '../exchange/cross-site.ts';

/** A 1×1 transparent GIF: the image request gets an image, so the page's onload (not onerror) fires. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const isFetch = (kind: CrossSiteKind) => kind === 'fetch' || kind === 'fetch-credentials';

export function crossSiteHandlers(registry: SandboxRegistry, render: Render, config: Config, base: ExchangeOutput) {
  /** Reads :kind (GET: every kind but the form; POST: the form) into res.locals.crossSite, or answers 400. */
  const readArrival: RequestHandler = (req, res, next) => {
    const kind = req.method === 'POST' ? 'form' : req.params.kind;
    if (req.method === 'POST' && req.params.kind !== 'form') throw new HttpError(405, 'only the form kind is sent with POST; the others are GET requests');
    if (!isCrossSiteKind(kind)) throw new HttpError(400, `the kind of cross-site request must be one of: ${CROSS_SITE_KINDS.join(', ')}`, 'kind');
    if (kind === 'form' && req.method !== 'POST') throw new HttpError(405, 'the form kind is a POST: send it from the second site\'s form');
    res.locals.crossSite = { kind, ...fetchMetadata((name) => req.get(name)), cookieSent: false, cell: null, words: '', cors: null };
    next();
  };

  /** The sandbox's CORS options on a fetch's answer (and its preflight); recorded with the arrival. */
  const corsHeaders = (req: Request, res: Response, sandbox: Sandbox): CrossSiteArrival['cors'] => {
    const { corsOrigin, corsCredentials } = sandbox.options;
    // The answer depends on the Origin asked from: caches must keep one per origin.
    res.vary('Origin');
    // Echoed only when it is an origin (scheme, host, port): anything else a client wrote stays out of our headers.
    const origin = req.get('Origin');
    const echoable = origin !== undefined && /^https?:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(origin);
    const allowOrigin = corsOrigin === '*' ? '*' : corsOrigin === 'echo' && echoable ? origin : null;
    if (allowOrigin) res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    const allowCredentials = corsOrigin !== 'off' && corsCredentials;
    if (allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    return { allowOrigin, allowCredentials };
  };

  const applyCors: RequestHandler = (req, res, next) => {
    const arrival = res.locals.crossSite!;
    if (isFetch(arrival.kind)) arrival.cors = corsHeaders(req, res, res.locals.sandbox);
    next();
  };

  /**
   * A fetch that adds X-Forwarded-Proto (the page's "as if behind an HTTPS proxy") is not a simple
   * request: the browser asks first. Answered from the same options, never recorded (a preflight
   * carries no cookies and reaches no session).
   */
  const preflight: RequestHandler = (req, res) => {
    const kind = req.params.kind;
    if (!isCrossSiteKind(kind) || !isFetch(kind)) throw new HttpError(404, 'only the fetch kinds are asked about first (a CORS preflight)');
    const { allowOrigin } = corsHeaders(req, res, res.locals.sandbox)!;
    if (allowOrigin) {
      res.setHeader('Access-Control-Allow-Methods', 'GET');
      res.setHeader('Access-Control-Allow-Headers', 'X-Forwarded-Proto');
      // Not cached: a change of the sandbox's CORS options applies to the next fetch.
      res.setHeader('Access-Control-Max-Age', '0');
    }
    res.setHeader('Cache-Control', 'no-store');
    res.status(204).end();
  };

  const answer: ForeignAnswer = {
    head(req, res, sandbox) {
      const kind = res.locals.crossSite!.kind;
      const other = otherSiteFor(req, config.otherSiteHost);
      const otherOrigin = hasOtherSite(other) ? other.origin : null;
      if (kind === 'link' || kind === 'form') {
        // A top-level navigation: back to the second site's page, whose grid now shows the result.
        const back = otherOrigin ? `${otherOrigin}${sandbox.path}/other-site?lab=${encodeURIComponent(req.hostname ?? '')}` : sandbox.path;
        res.status(303).setHeader('Location', back);
        res.type('text/plain');
      } else if (kind === 'image') {
        res.type('image/gif');
        // helmet's same-origin policy would make the browser drop the image (onerror): the request
        // has happened either way, but the page should see a picture arrive.
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      } else if (kind === 'iframe') {
        res.type('html');
        // Framed by the second site's page only.
        res.removeHeader('X-Frame-Options');
        res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors ${otherOrigin ?? "'none'"}`);
      } else {
        res.type('application/json');
      }
    },
    body(exchange: Exchange) {
      const arrival = exchange.crossSite!;
      if (arrival.kind === 'image') return PIXEL;
      if (arrival.kind === 'iframe') return render('partials/cross-site-frame', { arrival, exchange });
      if (isFetch(arrival.kind)) return JSON.stringify({ exchange: exchange.number, cookieSent: arrival.cookieSent, words: arrival.words, why: arrival.why ?? null, setCookie: exchange.setCookie.length > 0 });
      return `See the second site's page`;
    },
  };

  /** The recorder's output, with the arrival's cell worked out from the sandbox's history before it is stored. */
  const output: ExchangeOutput = {
    ...base,
    answer,
    save: async (sandbox, exchange) => {
      const arrival = exchange.crossSite;
      if (arrival) {
        const history = sandbox.exchanges;
        const { cell, words } = cellFor(arrival.kind, exchange.options.name, exchange.requestCookie ?? undefined, Date.parse(exchange.startedAt), history, sandbox.heldReading);
        arrival.cookieSent = exchange.requestCookieAnatomy !== null;
        arrival.cell = cell;
        arrival.words = words;
        if (cell) arrival.why = explainCell(cell).why;
      }
      await base.save(sandbox, exchange);
      if (arrival?.cell) await registry.saveCrossSiteCell(sandbox, arrival.cell);
    },
  };

  /** The second site's page: the grid, and a button (or a real link and form) per kind. */
  const page: RequestHandler = async (req, res) => {
    const sandbox = await registry.current(res.locals.sandbox);
    const labOrigin = labOriginFor(req, req.query.lab, config.otherSiteHost);
    if (!labOrigin) {
      throw new HttpError(400, "this is the second site's page: open it with the link on your sandbox page (it names the host you use the lab under, which must be another site than this one)", 'lab');
    }
    const labHost = new URL(labOrigin).hostname;
    res.setHeader('Content-Security-Policy', otherSitePolicy(labOrigin));
    res.setHeader('Cache-Control', 'no-store');
    res.send(
      render('other-site', {
        labHost,
        labSite: siteOf(labHost),
        thisSite: siteOf(req.hostname ?? ''),
        ...(await gridLocals(sandbox, labOrigin)),
      }),
    );
  };

  /** The grid alone (htmx), on either site: same-origin wherever it is asked from. */
  const grid: RequestHandler = async (req, res) => {
    const sandbox = await registry.current(res.locals.sandbox);
    const labOrigin = labOriginFor(req, req.query.lab, config.otherSiteHost);
    res.setHeader('Cache-Control', 'no-store');
    res.send(render('partials/cross-site-grid', await gridLocals(sandbox, labOrigin)));
  };

  async function gridLocals(sandbox: Sandbox, labOrigin: string | null) {
    const latest = new Map<CrossSiteKind, Exchange>();
    for (const exchange of sandbox.exchanges) if (exchange.crossSite) latest.set(exchange.crossSite.kind, exchange);
    return { sandbox, grid: await registry.crossSiteGrid(sandbox), kinds: CROSS_SITE_KINDS, columns: GRID_SAME_SITE, kindLabels: KIND_LABELS, latest, labOrigin };
  }

  /**
   * The sandbox's latest exchange for the inspector (htmx), when it is newer than the one the page
   * shows (`after`): the second site's requests are recorded while the learner is in the other tab.
   */
  const latestExchange: RequestHandler = async (req, res) => {
    const raw = req.query.after;
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw new HttpError(400, 'after must be the number of the exchange the page shows (0 for none)', 'after');
    const sandbox = await registry.current(res.locals.sandbox);
    const latest = sandbox.history.latest;
    res.setHeader('Cache-Control', 'no-store');
    if (!latest || latest.number <= Number(raw)) {
      res.status(204).end();
      return;
    }
    // As after any exchange: the jar asks the browser again, and a lesson's tasks follow.
    res.setHeader('HX-Trigger', 'sandbox-exchange');
    res.send(exchangeFragment(render, sandbox, latest));
  };

  return { readArrival, applyCors, preflight, output, page, grid, latestExchange };
}

/** The second site's page may load from, frame, fetch from and post to the learner's own origin; nothing else beyond its own. */
function otherSitePolicy(labOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: ${labOrigin}`,
    `frame-src ${labOrigin}`,
    `connect-src 'self' ${labOrigin}`,
    // The form posts to the lab, which redirects back here: both ends must be allowed.
    `form-action 'self' ${labOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}
