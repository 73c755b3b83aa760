// A classroom over real HTTP: a teacher creating a class through /teach, students joining through
// /join (each a CookieClient, one browser), and the answers' pieces the tests read.
import assert from 'node:assert/strict';
import { CookieClient, alertHtml, toAnswer, type Answer } from './http.ts';

export const FIRST_LESSON = 'what-a-session-cookie-is';
export const SECOND_LESSON = 'the-secret-signs';

export interface TestClass {
  token: string;
  /** The code as stored (six characters). */
  code: string;
  /** /teach/<token> */
  base: string;
  teacher: CookieClient;
}

/** Any request as a browser page would send it; the body as text. */
export async function browse(client: CookieClient, path: string, init: { method?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<Answer> {
  let body: string | undefined;
  const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
  if (init.form) {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(init.form)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
    body = form.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  return toAnswer(await client.request(path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body }));
}

/** An htmx request (HX-Request: true), as the class bar's poll and toggles send them. */
export function htmx(client: CookieClient, path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Answer> {
  return browse(client, path, { ...init, headers: { 'HX-Request': 'true', 'HX-Current-URL': `${client.baseUrl}/lessons/${FIRST_LESSON}` } });
}

export async function createClass(baseUrl: string, title = 'Cookies 101', lessons: string[] = [FIRST_LESSON, SECOND_LESSON]): Promise<TestClass> {
  const teacher = new CookieClient(baseUrl);
  const res = await browse(teacher, '/teach', { form: { title, lessons } });
  assert.equal(res.status, 303, `creating a class: ${res.status} ${res.text.slice(0, 300)}`);
  const location = res.headers.get('location') ?? '';
  const token = /^\/teach\/([A-Za-z0-9_-]{43})\?done=created$/.exec(location)?.[1];
  assert.ok(token, `redirected to the teacher page: ${location}`);
  const page = await browse(teacher, `/teach/${token}`);
  assert.equal(page.status, 200);
  const code = /class="join-code"[^>]*>([A-Z0-9]{3})-([A-Z0-9]{3})</.exec(page.text);
  assert.ok(code, 'the teacher page shows the join code');
  return { token, code: code[1]! + code[2]!, base: `/teach/${token}`, teacher };
}

/** A student joining with the code and a name; returns the answer (303 to where the class is when joined). */
export function join(student: CookieClient, code: string, name: string): Promise<Answer> {
  return browse(student, '/join', { form: { code, name } });
}

export async function joined(baseUrl: string, code: string, name: string): Promise<CookieClient> {
  const student = new CookieClient(baseUrl);
  const res = await join(student, code, name);
  assert.equal(res.status, 303, `${name} joins: ${res.status} ${res.text.slice(0, 300)}`);
  return student;
}

/** A teacher's form post to /teach/<token>/<action>. */
export function teacherPost(cls: TestClass, action: string, form: Record<string, string> = {}): Promise<Answer> {
  return browse(cls.teacher, `${cls.base}/${action}`, { form });
}

/** The message of a refusal page (role="alert"), tags removed. */
export function alertText(answer: Answer): string {
  return visibleText(alertHtml(answer.text) ?? '').trim();
}

/** The HTML-decoded text of a page, tags removed (what a reader sees). */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The student ids on the teacher's page, by name (from the remove forms' actions). */
export async function studentIds(cls: TestClass): Promise<Map<string, string>> {
  const page = await browse(cls.teacher, cls.base);
  const ids = new Map<string, string>();
  const row = /<th scope="row">([^<]*)<\/th>[\s\S]*?\/students\/([A-Za-z0-9_-]+)\/reset/g;
  for (let m = row.exec(page.text); m; m = row.exec(page.text)) ids.set(m[1]!, m[2]!);
  return ids;
}
