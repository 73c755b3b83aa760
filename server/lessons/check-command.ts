// `npm run lessons:check [folder]`: validates the lessons (lessons/ unless a folder is given) and
// replays every solution (and every wrong way, which must leave its task open) against the real
// app without a browser, one line per lesson, task and wrong way;
// exits non-zero, naming the file and the task, when a lesson is invalid or a solution fails.
import { relative, resolve } from 'node:path';
import { loadLessons } from './loader.ts';
import { LessonError, type Lesson } from './schema.ts';
import { replayLesson, startReplayLab, type LessonOutcome, type Verdict } from './replay.ts';
import { replayWrongWays, type WrongWayOutcome } from './replay-wrong-ways.ts';

const LABELS: Record<Verdict, string> = { solved: 'solved ', 'needs-browser': 'browser', failed: 'FAILED ', 'not-run': 'not run' };
const WRONG_LABELS: Record<WrongWayOutcome['verdict'], string> = { open: 'open   ', 'needs-browser': 'browser', failed: 'FAILED ' };

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
  console.log(`lessons:check: ${lessons.length} lesson file(s) in ${label} are valid; replaying their solutions and wrong ways without a browser (probe steps are skipped)`);

  const lab = await startReplayLab(lessons);
  let outcomes: LessonOutcome[];
  let wrongWays: WrongWayOutcome[][];
  try {
    // Each lesson on a browser and a sandbox of its own, all at once, as the Playwright workers do;
    // and each wrong way on one of its own too.
    [outcomes, wrongWays] = await Promise.all([
      Promise.all(lessons.map((lesson) => replayLesson(lab, lesson))),
      Promise.all(lessons.map((lesson) => replayWrongWays(lab, lesson))),
    ]);
  } finally {
    await lab.stop();
  }

  const count = (verdict: Verdict) => outcomes.flatMap((o) => o.tasks).filter((t) => t.verdict === verdict).length;
  for (const [i, { lesson, tasks }] of outcomes.entries()) {
    const wrong = wrongWays[i]!;
    const failed = tasks.some((t) => t.verdict === 'failed') || wrong.some((w) => w.verdict === 'failed');
    console.log(`${failed ? 'FAILED ' : 'ok     '} ${lesson.file}: ${lesson.title}`);
    for (const { task, verdict, detail } of tasks) {
      const said = verdict === 'needs-browser' ? `needs the browser replay (${detail})` : detail;
      console.log(`  ${LABELS[verdict]} task "${task.id}"${said ? `: ${said}` : ''}`);
      for (const w of wrong.filter((w) => w.task === task)) {
        const what = w.verdict === 'open' ? `leaves it open: ${w.detail}` : w.verdict === 'needs-browser' ? (w.detail.startsWith('sent from the second site') ? w.detail : 'its check reads the probe: left to the browser replay') : w.detail;
        console.log(`    ${WRONG_LABELS[w.verdict]} wrong way "${w.wrongWay.name}" ${what}`);
      }
    }
  }
  const total = outcomes.reduce((n, o) => n + o.tasks.length, 0);
  console.log(
    `lessons:check: ${outcomes.length} lessons, ${total} tasks: ${count('solved')} solved, ${count('needs-browser')} need the browser replay, ` +
      `${count('failed')} failed${count('not-run') ? `, ${count('not-run')} not run` : ''}`,
  );
  const tried = wrongWays.flat();
  const wrongCount = (verdict: WrongWayOutcome['verdict']) => tried.filter((w) => w.verdict === verdict).length;
  if (tried.length) {
    console.log(
      `lessons:check: ${tried.length} wrong ways: ${wrongCount('open')} left their task open, ${wrongCount('needs-browser')} need the browser replay, ${wrongCount('failed')} failed`,
    );
  }
  if (count('needs-browser') || wrongCount('needs-browser')) console.log('lessons:check: the complete proof, probes and the second site included, is the Chromium replay: npx playwright test e2e/lessons.spec.ts');
  for (const [i, { lesson, tasks }] of outcomes.entries()) {
    for (const { task, verdict, detail } of tasks) if (verdict === 'failed') console.error(`lessons:check: failed: ${lesson.file}: task "${task.id}": ${detail}`);
    for (const w of wrongWays[i]!) if (w.verdict === 'failed') console.error(`lessons:check: failed: ${lesson.file}: task "${w.task.id}": wrong way "${w.wrongWay.name}": ${w.detail}`);
  }
  return count('failed') || wrongCount('failed') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
