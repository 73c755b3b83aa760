// A class's results as a teacher downloads them (CSV for a spreadsheet, JSON for a script): one row
// per student and task of the class's lessons, solved or not, so nothing is cut off and a student
// who solved nothing still appears. Teachers open these in Excel or LibreOffice, which run a cell
// that starts like a formula: such cells are defused (OWASP "CSV injection").
import type { ClassRecord, ClassResults, StudentRecord } from './class-store.ts';
import type { Lesson } from '../lessons/schema.ts';

export interface ResultRow {
  student: string;
  lesson: string;
  task: string;
  /** ISO 8601 (UTC), or null while unsolved. */
  solvedAt: string | null;
  hintsUsed: number;
}

/** Every student (in the order they joined) times every task of the class's lessons (in course order). */
export function resultRows(record: ClassRecord, lessons: readonly Lesson[], students: readonly StudentRecord[], results: ClassResults): ResultRow[] {
  const key = (studentId: string, lesson: string, task: string) => `${studentId}\n${lesson}\n${task}`;
  const solved = new Map(results.solved.map((r) => [key(r.studentId, r.lesson, r.task), r.solvedAt]));
  const hints = new Map(results.hints.map((r) => [key(r.studentId, r.lesson, r.task), r.count]));
  const covered = lessons.filter((lesson) => record.lessons.includes(lesson.slug));
  const rows: ResultRow[] = [];
  for (const student of students) {
    for (const lesson of covered) {
      for (const task of lesson.tasks) {
        const at = solved.get(key(student.studentId, lesson.slug, task.id));
        rows.push({
          student: student.name,
          lesson: lesson.slug,
          task: task.id,
          solvedAt: at === undefined ? null : new Date(at).toISOString(),
          hintsUsed: hints.get(key(student.studentId, lesson.slug, task.id)) ?? 0,
        });
      }
    }
  }
  return rows;
}

const CSV_COLUMNS = ['student', 'lesson', 'task', 'solved_at', 'hints_used'] as const;

/**
 * RFC 4180 CSV: every field quoted (a name may hold commas, quotes or line breaks), CRLF between
 * records, and a UTF-8 byte order mark so that Excel reads accented names as UTF-8.
 */
export function toCsv(rows: readonly ResultRow[]): string {
  const lines = [CSV_COLUMNS.map(csvField).join(',')];
  for (const row of rows) lines.push([row.student, row.lesson, row.task, row.solvedAt ?? '', String(row.hintsUsed)].map(csvField).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

/**
 * One field, quoted. A text starting with = + - @ (or a tab or carriage return, which some
 * spreadsheets skip before looking) would be read as a formula: a leading apostrophe makes it text.
 */
function csvField(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${defused.replace(/"/g, '""')}"`;
}

/** The JSON export: the class as the teacher named it, and the same rows as the CSV. */
export function toJson(record: ClassRecord, rows: readonly ResultRow[], now = Date.now()) {
  return {
    format: 'cookie-lab-class-results',
    version: 1,
    class: { title: record.title, code: record.code, lessons: record.lessons, closedAt: record.closedAt === null ? null : new Date(record.closedAt).toISOString() },
    exportedAt: new Date(now).toISOString(),
    results: rows,
  };
}

/** A file name from the code alone (the title is the teacher's free text). */
export function exportFileName(record: ClassRecord, extension: 'csv' | 'json'): string {
  return `cookie-lab-class-${record.code}-results.${extension}`;
}
