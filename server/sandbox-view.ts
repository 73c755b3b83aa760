// What the sandbox panels (options form, inspector, session, history, code) need to render,
// shared by the sandbox page, lesson pages and the htmx fragments.
import type { SandboxOptions } from './sandbox-options.ts';
import type { Sandbox } from './sandbox-registry.ts';
import { sessionCode } from './session-code.ts';

/** The locals the sandbox panels need, shared by the sandbox page and lesson pages. */
export function sandboxPanels(sandbox: Sandbox) {
  return {
    sandbox,
    options: sandbox.options,
    form: { values: formValues(sandbox.options), error: null },
    latest: sandbox.exchanges.at(-1) ?? null,
    history: [...sandbox.exchanges].reverse(),
    code: sessionCode(sandbox.options),
  };
}

/** The options as the form shows them (all strings, like a submitted form). */
export function formValues(options: SandboxOptions): Record<string, string> {
  const { cookie } = options;
  return {
    name: options.name,
    secret: options.secret.join('\n'),
    maxAge: cookie.maxAge === null ? '' : String(cookie.maxAge),
    secure: String(cookie.secure),
    httpOnly: cookie.httpOnly ? 'on' : '',
    sameSite: cookie.sameSite === false ? '' : String(cookie.sameSite),
    domain: cookie.domain ?? '',
    resave: options.resave ? 'on' : '',
    saveUninitialized: options.saveUninitialized ? 'on' : '',
    rolling: options.rolling ? 'on' : '',
    unset: options.unset,
    proxy: options.proxy === null ? '' : String(options.proxy),
    store: options.store,
  };
}
