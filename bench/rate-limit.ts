// What the per-sandbox rate limit costs a sandbox request: express-rate-limit's middleware (what the
// lab runs), a fixed-window counter written by hand (what the lab ran before), and a middleware
// that does nothing (the baseline), each called in turn in this process, with the same requests.
import { rateLimit } from 'express-rate-limit';
import type { Request, RequestHandler, Response } from 'express';

const CALLS = Number(process.env.BENCH_LIMIT_CALLS ?? 200_000);
const ROUNDS = 5;
const SANDBOXES = 100;

/** The hand-written counter the lab used before express-rate-limit counted sandbox requests. */
function handCounter(limit: number, windowMs: number): RequestHandler {
  let windowStart = performance.now();
  const hits = new Map<string, number>();
  return (req, res, next) => {
    const now = performance.now();
    if (now - windowStart >= windowMs) {
      windowStart = now;
      hits.clear();
    }
    const key = String(req.params.id);
    const count = (hits.get(key) ?? 0) + 1;
    hits.set(key, count);
    if (count > limit) res.setHeader('Retry-After', '60');
    next();
  };
}

const contenders: Record<string, () => RequestHandler> = {
  'nothing (baseline)': () => (_req, _res, next) => next(),
  'hand-written counter': () => handCounter(1e9, 60_000),
  'express-rate-limit': () =>
    rateLimit({ windowMs: 60_000, limit: 1e9, standardHeaders: 'draft-8', legacyHeaders: false, identifier: 'sandbox', keyGenerator: (req) => String(req.params.id) }),
};

/** Just what the three middlewares touch of a request and a response. */
function fakeExchange(i: number): { req: Request; res: Response } {
  const headers = new Map<string, unknown>();
  const req = { params: { id: `sandbox-${i % SANDBOXES}` }, ip: '127.0.0.1', app: { get: () => 0 }, headers: {} } as unknown as Request;
  const res = {
    headersSent: false,
    setHeader: (name: string, value: unknown) => headers.set(name, value),
    getHeader: (name: string) => headers.get(name),
    append: (name: string, value: unknown) => headers.set(name, value),
    on: () => res,
  } as unknown as Response;
  return { req, res };
}

async function timeCalls(middleware: RequestHandler): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const { req, res } = fakeExchange(i);
    await new Promise<void>((resolve, reject) => {
      void middleware(req, res, (err?: unknown) => (err ? reject(err as Error) : resolve()));
    });
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / CALLS;
}

export async function measureRateLimit(): Promise<string> {
  const built = Object.fromEntries(Object.entries(contenders).map(([name, make]) => [name, make()]));
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(built).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // The order turns each round, so no contender always runs on a warmer (or colder) process.
    const names = Object.keys(built);
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]!;
      samples[name]!.push(await timeCalls(built[name]!));
    }
  }
  const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const base = medianOf(samples['nothing (baseline)']!);
  const lines = [`Per-sandbox rate limit, CPU µs per request (median of ${ROUNDS} rounds of ${CALLS} calls, in-process):`];
  for (const [name, values] of Object.entries(samples)) {
    const us = medianOf(values);
    lines.push(`  ${name.padEnd(22)} ${us.toFixed(2).padStart(7)} µs   ${name === 'nothing (baseline)' ? '' : `${us >= base ? '+' : '-'}${Math.abs(us - base).toFixed(2)} µs against the baseline`}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await measureRateLimit());
}
