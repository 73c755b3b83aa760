// Placeholders in a lesson's Markdown, filled in for each learner: `{{host}}` becomes the host name
// the learner's browser reached the lab by (req.hostname), so a lesson names the host the learner
// really has (lab.test, a classroom server, 127.0.0.1), not always localhost. The Markdown is still
// rendered once, at load (loader.ts): a request only replaces the placeholder in the flat HTML, with
// the value HTML-escaped, and keeps the result per host name.
import { LessonError, type Lesson } from './schema.ts';
import { flattenStrings } from '../http/flat-string.ts';

/** Every placeholder a lesson may use, and what it stands for (docs/authoring-lessons.md). */
export const PLACEHOLDERS = { host: 'the host name the learner reached the lab by' } as const;
export type PlaceholderValues = Record<keyof typeof PLACEHOLDERS, string>;

const ANY = /\{\{(.*?)\}\}/g;

/**
 * Checks a lesson's Markdown fields, before and after rendering: each `{{...}}` names a known
 * placeholder, written exactly so, and comes through rendering intact (not inside a link's
 * address, where marked would percent-encode it). `fields` pairs each field's name with its
 * Markdown source and its rendered HTML.
 */
export function checkPlaceholders(file: string, fields: { where: string; source: string; html: string }[]): void {
  for (const { where, source, html } of fields) {
    for (const [whole, name] of source.matchAll(ANY)) {
      if (!Object.hasOwn(PLACEHOLDERS, name!)) {
        throw new LessonError(file, where, `${whole} is not a placeholder; the placeholders are: ${Object.keys(PLACEHOLDERS).map((known) => `{{${known}}}`).join(', ')}`);
      }
    }
    for (const name of Object.keys(PLACEHOLDERS)) {
      const token = `{{${name}}}`;
      if (count(html, token) !== count(source, token)) {
        throw new LessonError(file, where, `${token} must stand in text or in code, not in a link's address or an HTML attribute`);
      }
    }
  }
}

/** Checks that a plain-text field (a title, a summary, a check's description…) holds no placeholder. */
export function checkNoPlaceholder(file: string, where: string, text: string): void {
  const found = /\{\{.*?\}\}/.exec(text);
  if (found) throw new LessonError(file, where, `${found[0]}: placeholders are filled in the body, the article's verdict, and a task's instructions, hints and why only`);
}

// Per lesson: whether it uses a placeholder at all (most do not: they are shown as loaded), and its
// filled copies by host name. Kept to a few hosts: the Host header is the client's to choose.
const uses = new WeakMap<Lesson, boolean>();
const filled = new WeakMap<Lesson, Map<string, Lesson>>();
const HOSTS_KEPT = 8;

/** The lesson as this learner sees it: its placeholders filled, or the lesson itself when it has none. */
export function fillLesson(lesson: Lesson, values: PlaceholderValues): Lesson {
  let has = uses.get(lesson);
  if (has === undefined) {
    has = markdownOf(lesson).some((html) => html.includes('{{'));
    uses.set(lesson, has);
  }
  if (!has) return lesson;
  let byHost = filled.get(lesson);
  if (!byHost) filled.set(lesson, (byHost = new Map()));
  const kept = byHost.get(values.host);
  if (kept) return kept;
  const fill = (html: string) => (html.includes('{{') ? html.replaceAll('{{host}}', escapeHtml(values.host)) : html);
  const copy: Lesson = flattenStrings({
    ...lesson,
    body: fill(lesson.body),
    article: lesson.article && { quote: lesson.article.quote, verdict: fill(lesson.article.verdict) },
    tasks: lesson.tasks.map((task) => ({ ...task, instructions: fill(task.instructions), hints: task.hints.map(fill), why: fill(task.why) })),
  });
  if (byHost.size >= HOSTS_KEPT) byHost.clear();
  byHost.set(values.host, copy);
  return copy;
}

function markdownOf(lesson: Lesson): string[] {
  return [lesson.body, lesson.article?.verdict ?? '', ...lesson.tasks.flatMap((task) => [task.instructions, ...task.hints, task.why])];
}

function count(text: string, token: string): number {
  return text.split(token).length - 1;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
