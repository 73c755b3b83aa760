// Pug templates compiled once: at build time into dist/views.js (npm start), or at start-up when
// run from source (tests, tsx). Rendering is then a plain function call.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type Pug from 'pug';
import { SITE_COOKIE_NAME } from '../sandbox/options.ts';

export type Render = (template: string, locals?: Record<string, unknown>) => string;
type Template = (locals: Record<string, unknown>) => string;

/** Options shared by the start-up and the build compilers, so both produce the same pages. */
export const PUG_OPTIONS = { compileDebug: false } as const;

export function compileViews(root: string): Render {
  // Loaded only here: a built server renders precompiled templates and never loads the compiler.
  const pug = createRequire(import.meta.url)('pug') as typeof Pug;
  const templates = new Map<string, Template>();
  for (const [name, file] of templateFiles(root)) templates.set(name, pug.compileFile(file, { ...PUG_OPTIONS, basedir: root }));
  return renderWith(templates);
}

/** The templates npm run build precompiled, or null when there is no build. */
export async function loadPrecompiledViews(file: string): Promise<Render | null> {
  if (!existsSync(file)) return null;
  const { templates } = (await import(pathToFileURL(file).href)) as { templates: Record<string, Template> };
  return renderWith(new Map(Object.entries(templates)));
}

/** Template name (path under views/, no extension) to file; mixins are only ever included. */
export function templateFiles(root: string): [string, string][] {
  return pugFiles(root)
    .map((file): [string, string] => [relative(root, file).replace(/\\/g, '/').replace(/\.pug$/, ''), file])
    .filter(([name]) => !name.startsWith('mixins/'));
}

/** Locals every template gets, so names the server owns are never typed into a template. */
export const TEMPLATE_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  /** The lab's own session cookie (server/stores/site-session.ts), which the inspector explains. */
  siteCookieName: SITE_COOKIE_NAME,
});

function renderWith(templates: Map<string, Template>): Render {
  return (template, locals = {}) => {
    const fn = templates.get(template);
    if (!fn) throw new Error(`no such view: ${template}`);
    // Locals are data only; pug options are fixed at compile time, so no value a learner stores
    // can become a render option.
    return fn({ ...TEMPLATE_DEFAULTS, ...locals });
  };
}

function pugFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pugFiles(path);
    return entry.name.endsWith('.pug') ? [path] : [];
  });
}
