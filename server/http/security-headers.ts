// The security headers every answer carries: a strict Content-Security-Policy and helmet's others.
import helmet from 'helmet';
import type { Request, RequestHandler, Response } from 'express';

/** A strict policy: our own scripts and styles only, no inline code, no eval, no framing. */
export function securityHeaders(production: boolean): RequestHandler {
  const headers = headersSetBy(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: 'same-origin' },
      strictTransportSecurity: production,
    }),
  );
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/**
 * helmet's headers depend only on its options (no directive here is a function of the request),
 * so it runs once, at start-up, and every answer gets what it set: the same headers, without a
 * dozen middleware calls per request.
 */
function headersSetBy(middleware: ReturnType<typeof helmet>): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  let called = false;
  middleware({} as Request, recorder as unknown as Response, () => (called = true));
  if (!called) throw new Error('helmet did not finish synchronously: its headers cannot be computed once');
  return [...headers];
}
