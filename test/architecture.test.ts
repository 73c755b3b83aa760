// The shape of the tree: no import cycles between the lab's modules, and no long file that does not
// say at its top why it is long (a file of several hundred lines is usually doing two jobs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const LONG_FILE_LINES = 300;
/** What a long file's opening comment must contain: a reason, in words. */
const REASON = /long because/i;

describe('the source tree', () => {
  it('has no import cycle between the modules of server/ (type-only imports included)', () => {
    const graph = importGraph(tsFiles(join(root, 'server')));
    const cycles = stronglyConnected(graph).filter((group) => group.length > 1 || graph.get(group[0]!)!.has(group[0]!));
    assert.deepEqual(
      cycles.map((group) => group.map((file) => relative(root, file)).sort()),
      [],
      'modules that import each other, directly or through others',
    );
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const a = join(root, 'a.ts');
    const b = join(root, 'b.ts');
    const c = join(root, 'c.ts');
    const graph = new Map([
      [a, new Set([b])],
      [b, new Set([c])],
      [c, new Set([a])],
    ]);
    assert.deepEqual(stronglyConnected(graph).map((group) => group.length), [3]);
    assert.deepEqual([...importsOf(`import type { X } from './b.ts';\nexport { y } from "./c.ts";\nconst z = await import('./a.ts');`, a)].sort(), [a, b, c].sort());
  });

  it(`has no file over ${LONG_FILE_LINES} lines without a reason at its top`, () => {
    const files = ['server', 'test', 'e2e', 'bench'].flatMap((dir) => tsFiles(join(root, dir))).concat(jsFiles(join(root, 'public')));
    const unexplained = files
      .map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n') }))
      .filter(({ lines }) => lines.length > LONG_FILE_LINES && !REASON.test(lines.slice(0, 8).join('\n')))
      .map(({ file, lines }) => `${relative(root, file)} (${lines.length} lines)`);
    assert.deepEqual(unexplained, [], `files over ${LONG_FILE_LINES} lines whose opening comment does not say why ("long because ...")`);
  });
});

function tsFiles(dir: string): string[] {
  return filesEnding(dir, '.ts');
}

function jsFiles(dir: string): string[] {
  return filesEnding(dir, '.js');
}

function filesEnding(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesEnding(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

/** Every relative module a file names: import, import type, export ... from, and import(). */
function importsOf(source: string, file: string): Set<string> {
  const found = new Set<string>();
  const patterns = [/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g, /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.add(resolve(dirname(file), match[1]!));
  return found;
}

function importGraph(files: string[]): Map<string, Set<string>> {
  const known = new Set(files);
  return new Map(files.map((file) => [file, new Set([...importsOf(readFileSync(file, 'utf8'), file)].filter((target) => known.has(target)))]));
}

/** Tarjan's algorithm: the groups of modules that can each reach all the others. */
function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      groups.push(group);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups;
}
