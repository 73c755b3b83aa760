// Watches what the app logs while a test runs: a 500, an error after the response started, or
// "headers already sent" all show up on console.error even when the client sees nothing wrong.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLessons } from '../../server/lessons/loader.ts';
import type { Lesson } from '../../server/lessons/schema.ts';

export interface ErrorLog {
  lines: string[];
  /** Lines that mean the server failed on its side (a 500, an error after the headers, a crash). */
  serverFailures(): string[];
  restore(): void;
}

export function watchConsoleErrors(options: { quiet?: boolean } = {}): ErrorLog {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => {
    const line = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message} ${(a as { code?: string }).code ?? ''}` : String(a))).join(' ');
    lines.push(line);
    if (!options.quiet) original(...args);
  };
  return {
    lines,
    serverFailures: () => lines.filter((line) => /failed:|could not record|headers already sent|ERR_HTTP_HEADERS_SENT|Cannot set headers/i.test(line)),
    restore: () => {
      console.error = original;
    },
  };
}

/** Collects uncaught exceptions and unhandled rejections from `start()` to `stop()`: a fault that
 * escaped every handler, which the process would otherwise have died of. */
export function watchUncaught(): { errors: unknown[]; start(): void; stop(): void } {
  const errors: unknown[] = [];
  const collect = (err: unknown) => errors.push(err);
  return {
    errors,
    start() {
      process.on('uncaughtException', collect);
      process.on('unhandledRejection', collect);
    },
    stop() {
      process.off('uncaughtException', collect);
      process.off('unhandledRejection', collect);
    },
  };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let lessons: Lesson[] | null = null;
/** The real course (slugs and task ids), read from lessons/. */
export function course(): Lesson[] {
  lessons ??= loadLessons(join(root, 'lessons'));
  return lessons;
}

export const repoRoot = root;
