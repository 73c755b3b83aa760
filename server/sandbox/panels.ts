// What the sandbox panels (options form, inspector, session, history, code) need to render,
// shared by the sandbox page, lesson pages and the htmx fragments.
import type { Exchange } from './model.ts';
import type { Sandbox } from './sandbox.ts';
import { formValues, type FormState } from './form.ts';
import { sessionCode } from './session-code.ts';
import type { Render } from '../http/views.ts';
import { flatten } from '../http/flat-string.ts';
import { shareQuery } from './share-link.ts';

/** The locals the sandbox panels need, shared by the sandbox page and lesson pages. */
export function sandboxPanels(sandbox: Sandbox, form: FormState = { values: formValues(sandbox.options), error: null }) {
  return {
    sandbox,
    options: sandbox.options,
    form,
    latest: sandbox.history.latest,
    history: [...sandbox.exchanges].reverse(),
    code: sessionCode(sandbox.options, sandbox.stores.database),
    storeChoices: storeChoices(sandbox),
    /** The share link's query (partials/share-link): the options only, never the secret. */
    shareQuery: shareQuery(sandbox.options),
  };
}

/** The store select's choices: [value, label], Redis only where the lab has one. */
function storeChoices(sandbox: Sandbox): [string, string][] {
  const engine = sandbox.stores.database === 'postgres' ? 'PostgreSQL' : 'SQLite';
  return [
    ['memory', 'memory (MemoryStore)'],
    ['database', `database (our Store over ${engine})`],
    ...(sandbox.stores.redis || sandbox.options.store === 'redis' ? [['redis', 'redis (connect-redis)'] as [string, string]] : []),
  ];
}

/** The htmx answer to a sandbox request: the inspector, and the session and history it changed. */
export function exchangeFragment(render: Render, sandbox: Sandbox, exchange: Exchange): string {
  return render('partials/exchange-fragment', { sandbox, latest: exchange, history: [...sandbox.exchanges].reverse() });
}

/**
 * The panels' HTML depends only on the sandbox's options and its exchanges, so it is rendered once
 * per change of either and reused by every page that shows it: a class reloading its lesson pages
 * renders each sandbox once. (Options change together with `builtFrom`, which only grows; each
 * recorded exchange has a new number.) Forgotten with the sandbox object.
 */
const renderedPanels = new WeakMap<Sandbox, { key: string; html: string }>();

export function sandboxPanelsHtml(render: Render, sandbox: Sandbox): string {
  const key = `${sandbox.builtFrom} ${sandbox.history.latest?.number ?? 0}`;
  const kept = renderedPanels.get(sandbox);
  if (kept?.key === key) return kept.html;
  // Stored flat: every page showing it embeds it (see flat-string.ts).
  const html = flatten(render('partials/sandbox-panels', sandboxPanels(sandbox)));
  renderedPanels.set(sandbox, { key, html });
  return html;
}
