// Reads lessons/NN-slug.md (YAML front matter, then Markdown), validates them and renders their
// Markdown once (placeholders such as {{host}} are filled per request: placeholders.ts). Any error
// stops start-up, naming the file, the task and the field.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Marked } from 'marked';
import { LessonError, validateLesson, type Lesson } from './schema.ts';
import { flattenStrings } from '../http/flat-string.ts';
import { checkNoPlaceholder, checkPlaceholders } from './placeholders.ts';

const LESSON_FILE = /^(\d{2})-([a-z0-9-]+)\.md$/;
const markdown = new Marked({ gfm: true, async: false });

/** Reads every lesson in `dir`; messages and each lesson's `file` name it `<label>/NN-slug.md`. */
export function loadLessons(dir: string, label = 'lessons'): Lesson[] {
  const files = readdirSync(dir).filter((name) => name.endsWith('.md')).sort();
  const lessons = files.map((name) => loadLesson(dir, name, label));
  const numbers = new Set<number>();
  for (const lesson of lessons) {
    if (numbers.has(lesson.number)) throw new LessonError(lesson.file, '', `another lesson already has number ${lesson.number}`);
    numbers.add(lesson.number);
  }
  return lessons;
}

function loadLesson(dir: string, name: string, label: string): Lesson {
  const file = `${label}/${name}`;
  const match = LESSON_FILE.exec(name);
  if (!match) throw new LessonError(file, '', 'a lesson file is named NN-slug.md (two digits, then lowercase letters, digits and hyphens)');
  const source = readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');
  const front = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(source);
  if (!front) throw new LessonError(file, '', 'a lesson starts with front matter between two "---" lines');
  let data: unknown;
  try {
    data = parseYaml(front[1]!);
  } catch (err) {
    throw new LessonError(file, 'front matter', `is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const lesson = validateLesson(file, match[2]!, Number(match[1]), data, front[2]!);
  const rendered: Lesson = {
    ...lesson,
    body: renderBlock(lesson.body),
    article: lesson.article && { quote: lesson.article.quote, verdict: renderBlock(lesson.article.verdict) },
    tasks: lesson.tasks.map((task) => ({
      ...task,
      instructions: renderBlock(task.instructions),
      hints: task.hints.map(renderInline),
      why: renderBlock(task.why),
    })),
  };
  // {{host}} and the like are filled per request (placeholders.ts): only known ones, intact after rendering.
  checkPlaceholders(file, [
    { where: 'body', source: lesson.body, html: rendered.body },
    ...(lesson.article ? [{ where: 'article.verdict', source: lesson.article.verdict, html: rendered.article!.verdict }] : []),
    ...lesson.tasks.flatMap((task, i) => [
      { where: `task "${task.id}": instructions`, source: task.instructions, html: rendered.tasks[i]!.instructions },
      ...task.hints.map((hint, h) => ({ where: `task "${task.id}": hints[${h}]`, source: hint, html: rendered.tasks[i]!.hints[h]! })),
      { where: `task "${task.id}": why`, source: task.why, html: rendered.tasks[i]!.why },
    ]),
  ]);
  checkNoPlaceholder(file, 'title', lesson.title);
  checkNoPlaceholder(file, 'summary', lesson.summary);
  if (lesson.article) checkNoPlaceholder(file, 'article.quote', lesson.article.quote);
  for (const task of lesson.tasks) checkNoPlaceholder(file, `task "${task.id}": title`, task.title);
  // Every page of the lesson embeds these strings: store them flat (see flat-string.ts).
  return flattenStrings(rendered);
}

function renderBlock(text: string): string {
  return markdown.parse(text) as string;
}

function renderInline(text: string): string {
  return markdown.parseInline(text) as string;
}
