// Per-learner limits. Sandbox traffic is counted per sandbox, not per address, so a whole class
// behind one school address is never blocked by its neighbours; only creation and id guessing are
// counted per address, with room for a large class.
import { rateLimit, type Options } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';
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
    // Every sandbox request passes here, so it is a counter kept by hand: express-rate-limit's
    // asynchronous store and headers cost more than a sandbox request's own session handling.
    sandboxRequests: perSandboxLimit(new FixedWindowCounter(limits.sandboxRequestsPerMinute, 60_000)),
    guessing: new MissCounter(limits.unknownIdsPerMinute, 60_000),
  };
}

/** Counts hits per key in a fixed window; the whole window's counts are dropped when it ends. */
export class FixedWindowCounter {
  // A monotonic clock: a wall clock stepping back would hold a window open for as long.
  private windowStart = performance.now();
  private readonly hits = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one hit; over the limit, answers how many seconds until the window ends (else null). */
  hit(key: string): number | null {
    const now = performance.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.hits.clear();
    }
    const count = (this.hits.get(key) ?? 0) + 1;
    this.hits.set(key, count);
    return count > this.limit ? Math.max(1, Math.ceil((this.windowStart + this.windowMs - now) / 1000)) : null;
  }
}

function refuse(res: Response, retryAfterS: number, message: string): never {
  res.setHeader('Retry-After', String(retryAfterS));
  throw new HttpError(429, message);
}

/** Requests to one sandbox, from whoever sends them. */
function perSandboxLimit(counter: FixedWindowCounter): RequestHandler {
  return (req, res, next) => {
    const retryAfter = counter.hit(String(req.params.id));
    if (retryAfter !== null) refuse(res, retryAfter, 'this sandbox has had too many requests this minute; wait a moment');
    next();
  };
}

/**
 * Counts unknown sandbox ids per address in a fixed window. Only real misses count (a request
 * that is cut short, or one for your own sandbox, never does), so it is kept by hand rather than
 * by express-rate-limit, whose "skip successful requests" counts every request until it finishes.
 */
export class MissCounter {
  private readonly counter: FixedWindowCounter;

  constructor(limit: number, windowMs: number) {
    this.counter = new FixedWindowCounter(limit, windowMs);
  }

  /** Records a miss from this address; throws a 429 once the address is past the limit. */
  miss(req: Request, res: Response): void {
    const retryAfter = this.counter.hit(req.ip ?? 'unknown');
    if (retryAfter !== null) refuse(res, retryAfter, 'too many unknown sandbox ids from this address; try again in a minute');
  }
}
