// `npm run lessons:check [folder]`: validates the lessons (lessons/ unless a folder is given) and
// replays every solution against the real app without a browser, one line per lesson and task;
// exits non-zero, naming the file and the task, when a lesson is invalid or a solution fails.
import { relative, resolve } from 'node:path';
import { loadLessons } from './loader.ts';
import { LessonError, type Lesson } from './schema.ts';
import { replayLesson, startReplayLab, type LessonOutcome, type Verdict } from './replay.ts';

const LABELS: Record<Verdict, string> = { solved: 'solved ', 'needs-browser': 'browser', failed: 'FAILED ', 'not-run': 'not run' };

async function main(argv: string[]): Promise<number> {
  if (argv.length > 1) {
    console.error('usage: npm run lessons:check [-- folder]   (the folder defaults to lessons/)');
    return 2;
  }
  const dir = argv[0] ?? 'lessons';
  // Name files as the teacher typed the folder (lessons/02-x.md), or by their path from here.
  const label = relative(process.cwd(), resolve(dir)) || '.';
  let lessons: Lesson[];
  try {
    lessons = loadLessons(dir, label.startsWith('..') ? resolve(dir) : label);
  } catch (err) {
    if (!(err instanceof LessonError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    console.error(`lessons:check: invalid: ${(err as Error).message}`);
    return 1;
  }
  if (lessons.length === 0) {
    console.error(`lessons:check: no lesson (NN-slug.md) in ${dir}`);
    return 1;
  }
  console.log(`lessons:check: ${lessons.length} lesson file(s) in ${label} are valid; replaying their solutions without a browser (probe steps are skipped)`);

  const lab = await startReplayLab(lessons);
  let outcomes: LessonOutcome[];
  try {
    // Each lesson on a browser and a sandbox of its own, all at once, as the Playwright workers do.
    outcomes = await Promise.all(lessons.map((lesson) => replayLesson(lab, lesson)));
  } finally {
    await lab.stop();
  }

  const count = (verdict: Verdict) => outcomes.flatMap((o) => o.tasks).filter((t) => t.verdict === verdict).length;
  for (const { lesson, tasks } of outcomes) {
    const failed = tasks.some((t) => t.verdict === 'failed');
    console.log(`${failed ? 'FAILED ' : 'ok     '} ${lesson.file}: ${lesson.title}`);
    for (const { task, verdict, detail } of tasks) {
      const said = verdict === 'needs-browser' ? `needs the browser replay (${detail})` : detail;
      console.log(`  ${LABELS[verdict]} task "${task.id}"${said ? `: ${said}` : ''}`);
    }
  }
  const total = outcomes.reduce((n, o) => n + o.tasks.length, 0);
  console.log(
    `lessons:check: ${outcomes.length} lessons, ${total} tasks: ${count('solved')} solved, ${count('needs-browser')} need the browser replay, ` +
      `${count('failed')} failed${count('not-run') ? `, ${count('not-run')} not run` : ''}`,
  );
  if (count('needs-browser')) console.log('lessons:check: the complete proof, probes included, is the Chromium replay: npx playwright test e2e/lessons.spec.ts');
  for (const { lesson, tasks } of outcomes) {
    for (const { task, verdict, detail } of tasks) if (verdict === 'failed') console.error(`lessons:check: failed: ${lesson.file}: task "${task.id}": ${detail}`);
  }
  return count('failed') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
