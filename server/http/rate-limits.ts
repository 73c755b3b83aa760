// Per-learner limits, all counted by express-rate-limit. Sandbox traffic is counted per sandbox, not
// per address, so a whole class behind one school address is never blocked by its neighbours; only
// creation and id guessing are counted per address, with room for a large class.
import { MemoryStore, ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { Request, Response } from 'express';
import { HttpError } from './http-error.ts';

export interface Limits {
  /** Sandboxes one address may create per minute (a class of hundreds behind one NAT fits). */
  sandboxesPerMinute: number;
  /** Requests to one sandbox per minute: far above what clicking can do. */
  sandboxRequestsPerMinute: number;
  /** Unknown sandbox ids one address may try per minute. */
  unknownIdsPerMinute: number;
  /** Classes one address may create per minute (a teacher makes a few a day). */
  classesPerMinute: number;
  /** Join attempts from one address per minute: a class of 40 behind one school NAT, with retries, fits. */
  joinsPerMinute: number;
  /** Join attempts into one class per minute, from anywhere (stops a flood of fake students). */
  joinsPerClassPerMinute: number;
  /** Join codes that name no class, per address per minute (codes must not be walked). */
  unknownCodesPerMinute: number;
  /** Teacher and dashboard requests from one address per minute (a dashboard polls every 2 s). */
  teacherRequestsPerMinute: number;
  /** Teacher and dashboard requests to one class per minute, from any address (several tabs, a co-teacher). */
  classRequestsPerMinute: number;
  /** Unknown teacher tokens one address may try per minute. */
  unknownTokensPerMinute: number;
  /**
   * Projector requests per address per minute. The projector is public (by join code): a budget of
   * its own, so students who open it on their laptops never use up their teacher's. Ten projector
   * tabs behind one school address, each polling once a second, fit.
   */
  projectorRequestsPerMinute: number;
}

export const defaultLimits: Limits = {
  sandboxesPerMinute: 600,
  sandboxRequestsPerMinute: 600,
  unknownIdsPerMinute: 60,
  classesPerMinute: 20,
  joinsPerMinute: 200,
  joinsPerClassPerMinute: 200,
  unknownCodesPerMinute: 30,
  teacherRequestsPerMinute: 300,
  classRequestsPerMinute: 600,
  unknownTokensPerMinute: 20,
  projectorRequestsPerMinute: 600,
};

const WINDOW_MS = 60_000;

export function rateLimits(limits: Limits) {
  const common: Partial<Options> = {
    windowMs: WINDOW_MS,
    // The IETF draft's `RateLimit` and `RateLimit-Policy` headers, on every answer that is counted.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next, options) => {
      next(new HttpError(429, String(options.message)));
    },
  };
  /** A budget shared by whoever sends requests about one thing (a sandbox, a class), named by `key`. */
  const perThing = (identifier: string, limit: number, key: Options['keyGenerator'], message: string) => rateLimit({ ...common, identifier, limit, keyGenerator: key, message });
  return {
    createSandbox: rateLimit({ ...common, limit: limits.sandboxesPerMinute, message: 'too many new sandboxes from this address; try again in a minute' }),
    /** Requests to one sandbox, from whoever sends them (runs after the sandbox was loaded). */
    sandboxRequests: perThing('sandbox', limits.sandboxRequestsPerMinute, (req) => String(req.params.id), 'this sandbox has had too many requests this minute; wait a moment'),
    guessing: new MissCounter(limits.unknownIdsPerMinute),
    createClass: rateLimit({ ...common, identifier: 'classes', limit: limits.classesPerMinute, message: 'too many new classes from this address; try again in a minute' }),
    /** Join attempts per address (before the code is looked up). */
    joins: rateLimit({ ...common, identifier: 'joins', limit: limits.joinsPerMinute, message: 'too many join attempts from this address; wait a minute, then try again' }),
    /** Join attempts per class (after the code found it: res.locals.joinClass). */
    joinsPerClass: perThing('class-joins', limits.joinsPerClassPerMinute, (_req, res) => String(res.locals.joinClass?.id), 'too many students are joining this class this minute; wait a moment, then try again'),
    unknownCodes: new MissCounter(limits.unknownCodesPerMinute, 'too many join codes that name no class from this address; check the code with your teacher and try again in a minute'),
    /** Teacher and dashboard requests per address (before the token is looked up). */
    teacherRequests: rateLimit({ ...common, identifier: 'teacher', limit: limits.teacherRequestsPerMinute, message: "too many requests to teachers' pages from this address; wait a minute" }),
    /** Teacher and dashboard requests per class (after loadTeacherClass). */
    classRequests: perThing('class', limits.classRequestsPerMinute, (_req, res) => String(res.locals.classRecord?.id), 'this class has had too many teacher and dashboard requests this minute; wait a moment'),
    /** Projector requests per address (its own budget: see Limits). */
    projectorRequests: rateLimit({ ...common, identifier: 'projector', limit: limits.projectorRequestsPerMinute, message: 'too many projector requests from this address this minute; it refreshes again shortly' }),
    unknownTokens: new MissCounter(limits.unknownTokensPerMinute, 'too many unknown teacher links from this address; try again in a minute'),
  };
}

/**
 * Counts unknown sandbox ids per address. Only real misses count (a request that is cut short, or
 * one for your own sandbox, never does), so the load middleware counts them itself in
 * express-rate-limit's store, rather than through its middleware, whose "skip successful
 * requests" counts every request until it finishes.
 */
export class MissCounter {
  private readonly store = new MemoryStore();

  constructor(
    private readonly limit: number,
    private readonly message = 'too many unknown sandbox ids from this address; try again in a minute',
  ) {
    this.store.init({ windowMs: WINDOW_MS } as Options);
  }

  /** Records a miss from this address; throws a 429 once the address is past the limit. */
  async miss(req: Request, res: Response): Promise<void> {
    // IPv6 addresses are counted by their /64, as express-rate-limit does: one client holds many.
    const { totalHits, resetTime } = await this.store.increment(req.ip ? ipKeyGenerator(req.ip) : 'unknown');
    if (totalHits <= this.limit) return;
    const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
    res.setHeader('Retry-After', String(seconds));
    throw new HttpError(429, this.message);
  }

  /** Stops the store's clean-up timer (tests and shutdown). */
  shutdown(): void {
    this.store.shutdown();
  }
}
