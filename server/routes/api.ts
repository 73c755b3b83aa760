// The JSON API: create a sandbox, read and change its options, list its exchanges.
import type { Request, RequestHandler } from 'express';
import { validateOptions } from '../sandbox/options.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';

export function sandboxApi(registry: SandboxRegistry) {
  const create: RequestHandler = async (req, res) => {
    const options = validateOptions(req.body ?? {});
    const sandbox = await registry.create(options);
    res.status(201).location(sandbox.path).json({ id: sandbox.id, options: sandbox.options, url: absoluteUrl(req, sandbox.path) });
  };

  const showOptions: RequestHandler = (_req, res) => {
    res.json(res.locals.sandbox.options);
  };

  /** Sets the fields given; the others keep their values. */
  const updateOptions: RequestHandler = async (req, res) => {
    const sandbox = res.locals.sandbox;
    await registry.updateOptions(sandbox, validateOptions(req.body ?? {}, sandbox.options));
    res.json(sandbox.options);
  };

  const listExchanges: RequestHandler = async (_req, res) => {
    const sandbox = await registry.current(res.locals.sandbox);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ exchanges: sandbox.exchanges });
  };

  return { create, showOptions, updateOptions, listExchanges };
}

function absoluteUrl(req: Request, path: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${path}`;
}
