// Per-learner limits. Sandbox traffic is counted per sandbox, not per address, so a whole class
// behind one school address is never blocked by its neighbours; only creation and id guessing are
// counted per address, with room for a large class.
import { rateLimit, type Options } from 'express-rate-limit';
import type { Request, RequestHandler } from 'express';
import { HttpError } from './http-error.ts';

export interface Limits {
  /** Sandboxes one address may create per minute (a class of hundreds behind one NAT fits). */
  sandboxesPerMinute: number;
  /** Requests to one sandbox per minute: far above what clicking can do. */
  sandboxRequestsPerMinute: number;
  /** Unknown sandbox ids one address may try per minute. */
  unknownIdsPerMinute: number;
}

export const defaultLimits: Limits = { sandboxesPerMinute: 600, sandboxRequestsPerMinute: 600, unknownIdsPerMinute: 60 };

export function rateLimits(limits: Limits) {
  const common: Partial<Options> = {
    windowMs: 60_000,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next, options) => {
      next(new HttpError(429, String(options.message)));
    },
  };
  return {
    createSandbox: rateLimit({ ...common, limit: limits.sandboxesPerMinute, message: 'too many new sandboxes from this address; try again in a minute' }),
    sandboxRequests: rateLimit({
      ...common,
      limit: limits.sandboxRequestsPerMinute,
      keyGenerator: (req: Request) => `sandbox:${String(req.params.id)}`,
      message: 'this sandbox has had too many requests this minute; wait a moment',
    }),
    /** Counts only the answers that were 404s: guessing ids costs, using your own does not. */
    guessing: rateLimit({
      ...common,
      limit: limits.unknownIdsPerMinute,
      requestWasSuccessful: (_req, res) => res.statusCode !== 404,
      skipSuccessfulRequests: true,
      message: 'too many unknown sandbox ids from this address; try again in a minute',
    }) as RequestHandler,
  };
}
