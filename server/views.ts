// Compiles every pug template once at start-up; rendering is then a plain function call.
import pug from 'pug';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export type Render = (template: string, locals?: Record<string, unknown>) => string;

export function compileViews(root: string, siteLocals: Record<string, unknown> = {}): Render {
  const compiled = new Map<string, pug.compileTemplate>();
  for (const file of pugFiles(root)) {
    const name = relative(root, file).replace(/\\/g, '/').replace(/\.pug$/, '');
    if (name.startsWith('mixins/')) continue;
    compiled.set(name, pug.compileFile(file, { basedir: root }));
  }
  return (template, locals = {}) => {
    const fn = compiled.get(template);
    if (!fn) throw new Error(`no such view: ${template}`);
    // Locals are passed as data only; pug options are fixed above, so no value a learner stores
    // can become a render option.
    return fn({ ...siteLocals, ...locals });
  };
}

function pugFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pugFiles(path);
    return entry.name.endsWith('.pug') ? [path] : [];
  });
}
