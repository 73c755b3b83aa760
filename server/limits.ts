// Per-learner limits. Sandbox traffic is counted per sandbox, not per address, so a whole class
// behind one school address is never blocked by its neighbours; only creation and id guessing are
// counted per address, with room for a large class.
import { rateLimit, type Options } from 'express-rate-limit';
import type { Request, Response } from 'express';
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
    guessing: new MissCounter(limits.unknownIdsPerMinute, 60_000),
  };
}

/**
 * Counts unknown sandbox ids per address in a fixed window. Only real misses count (a request
 * that is cut short, or one for your own sandbox, never does), so it is kept by hand rather than
 * by express-rate-limit, whose "skip successful requests" counts every request until it finishes.
 */
export class MissCounter {
  private windowStart = Date.now();
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records a miss from this address; throws a 429 once the address is past the limit. */
  miss(req: Request, res: Response): void {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.misses.clear();
    }
    const key = req.ip ?? 'unknown';
    const count = (this.misses.get(key) ?? 0) + 1;
    this.misses.set(key, count);
    if (count > this.limit) {
      res.setHeader('Retry-After', String(Math.ceil((this.windowStart + this.windowMs - now) / 1000)));
      throw new HttpError(429, 'too many unknown sandbox ids from this address; try again in a minute');
    }
  }
}
