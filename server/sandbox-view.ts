// What the sandbox panels (options form, inspector, session, history, code) need to render,
// shared by the sandbox page, lesson pages and the htmx fragments.
import type { SandboxOptions } from './sandbox-options.ts';
import type { Sandbox } from './sandbox-registry.ts';
import { sessionCode } from './session-code.ts';
import type { Render } from './views.ts';
import { flatten } from './flat-string.ts';

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

/**
 * The panels' HTML depends only on the sandbox's options and its exchanges, so it is rendered once
 * per change of either and reused by every page that shows it: a class reloading its lesson pages
 * renders each sandbox once. (Options change together with `builtFrom`, which only grows; each
 * recorded exchange has a new number.) Forgotten with the sandbox object.
 */
const renderedPanels = new WeakMap<Sandbox, { key: string; html: string }>();

export function sandboxPanelsHtml(render: Render, sandbox: Sandbox): string {
  const key = `${sandbox.builtFrom} ${sandbox.exchanges.at(-1)?.number ?? 0}`;
  const kept = renderedPanels.get(sandbox);
  if (kept?.key === key) return kept.html;
  // Stored flat: every page showing it embeds it (see flat-string.ts).
  const html = flatten(render('partials/sandbox-panels', sandboxPanels(sandbox)));
  renderedPanels.set(sandbox, { key, html });
  return html;
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
