// Replays each lesson's solution against the real app without a browser, the way
// e2e/lessons.spec.ts clicks it in Chromium, and asks the app whether each task got solved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../app.ts';
import { courseFor, NO_FEATURES } from './features.ts';
import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { SandboxOptions } from '../sandbox/options.ts';
import { formValues } from '../sandbox/form.ts';
import { evaluate, readsProbe, type Check, type Observation } from './checks.ts';
import { flatSteps, formField, OPTION_CONTROLS, OPTION_FIELDS, optionFormValue, sendsFromOtherSite, type Lesson, type OptionStep, type RequestStep, type Step, type Task } from './schema.ts';
import { ReplayBrowser } from './replay-browser.ts';

export type Verdict = 'solved' | 'needs-browser' | 'failed' | 'not-run';

export interface TaskOutcome {
  task: Task;
  verdict: Verdict;
  /** Why it failed, or what was skipped. */
  detail: string;
}

export interface LessonOutcome {
  lesson: Lesson;
  tasks: TaskOutcome[];
}

/**
 * How a replay treats document.cookie: `skip` probe steps (Read document.cookie), as only a page
 * can read it; or `jar`: take from the replay's cookie jar what document.cookie would show under
 * the sandbox's path (the cookies that are not HttpOnly) and report it as the page does, on a probe
 * step and with the refresh of "What your browser did" after every exchange and options change.
 */
export type ProbeMode = 'skip' | 'jar';



/** The app on 127.0.0.1, a port of its own, over a SQLite file of its own (removed by stop). */
export interface ReplayLab {
  baseUrl: string;
  registry: SandboxRegistry;
  /** Resolves once express-session has given the next request to `path` its session. */
  sessionLoaded(path: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startReplayLab(lessons: Lesson[]): Promise<ReplayLab> {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-lessons-check-'));
  const databasePath = join(dir, 'lab.sqlite');
  let db: Database | null = null;
  try {
    db = await openDatabase(databasePath);
    const config: Config = {
      port: 0,
      host: '127.0.0.1',
      database: databasePath,
      databaseSchema: 'public',
      redisUrl: null,
      redisPrefix: 'cookie-lab:',
      instanceName: 'lessons-check', instanceCount: 1, databasePoolSize: 10,
      siteSessionStore: 'database',
      production: false,
      trustProxy: 0,
      siteSessionSecret: randomBytes(32).toString('hex'),
      otherSiteHost: null,
      limits: {},
    };
    const { app, registry } = buildApp({ config, db, lessonList: lessons });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const opened = db;
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      registry,
      sessionLoaded: (path) => sessionLoaded(server, path),
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * express-session sets `req.session` once it has the session (after its store `get`): watching
 * that assignment on the next request to `path` tells when that request is in flight with its
 * session loaded, so a race's second request can start then, without guessing a delay.
 */
function sessionLoaded(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (req: IncomingMessage) => {
      // Express has already begun routing it (it rewrites req.url under a mount point).
      const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
      if (url.split('?')[0] !== path) return;
      server.off('request', listener);
      if (Object.hasOwn(req, 'session')) return resolve();
      let session: unknown;
      Object.defineProperty(req, 'session', {
        configurable: true,
        enumerable: true,
        get: () => session,
        set: (value: unknown) => {
          session = value;
          resolve();
        },
      });
    };
    server.on('request', listener);
  });
}

/** One lesson, on a browser of its own; a failed task ends the lesson (later tasks build on it). */
export async function replayLesson(lab: ReplayLab, wholeLesson: Lesson, probe: ProbeMode = 'skip'): Promise<LessonOutcome> {
  const lesson = courseFor([wholeLesson], NO_FEATURES)[0]!; // the replay's lab: one process, no Redis
  const run = new LessonRun(lab, lesson, probe);
  const tasks: TaskOutcome[] = [];
  let failed = false;
  for (const task of lesson.tasks) {
    if (failed) {
      tasks.push({ task, verdict: 'not-run', detail: 'not replayed: an earlier task failed' });
      continue;
    }
    const outcome = await run.task(task).catch((err: unknown) => ({ task, verdict: 'failed' as const, detail: err instanceof Error ? err.message : String(err) }));
    failed = outcome.verdict === 'failed';
    tasks.push(outcome);
  }
  return { lesson, tasks };
}

/** One learner working through a lesson: its page, its sandbox, and its request forms' fields. */
export class LessonRun {
  private readonly browser: ReplayBrowser;
  private sandboxPath = '';
  /** The request forms' fields keep what was typed in them, from one task to the next. */
  private readonly fields = { key: 'user', value: 'ada', ms: '2000' };
  /** A task of this run was sent from the second site: what follows is left to the browser replay. */
  sentFromOtherSite = false;

  constructor(
    private readonly lab: ReplayLab,
    private readonly lesson: Lesson,
    private readonly probeMode: ProbeMode = 'skip',
  ) {
    this.browser = new ReplayBrowser(lab.baseUrl);
  }

  /** Performs the task's solution and says whether the app shows it solved (and not before its steps). */
  async task(task: Task): Promise<TaskOutcome> {
    if (!this.sandboxPath) await this.openPage();
    if ((await this.solvedTasks()).has(task.id)) {
      return { task, verdict: 'failed', detail: "already solved before its steps ran: the earlier tasks' steps satisfy its check (include in it the option this task changes)" };
    }
    // Which cookies go along from another site is the browser's decision: nothing here may guess it.
    if (sendsFromOtherSite(task.solution)) {
      this.sentFromOtherSite = true;
      return { task, verdict: 'needs-browser', detail: 'sent from the second site: only a browser decides which cookies go along' };
    }
    // After a task sent from the second site, the sandbox's state is a browser's: the rest is left to it too.
    if (this.sentFromOtherSite) return { task, verdict: 'needs-browser', detail: 'follows a task sent from the second site' };
    await this.steps(task.solution, 'solution');
    const skipped = this.probeMode === 'skip' ? flatSteps(task.solution).filter((step) => 'probe' in step).length : 0;
    const skippedNote = skipped ? `${skipped} probe step${skipped > 1 ? 's' : ''} skipped` : '';
    if ((await this.solvedTasks()).has(task.id)) return { task, verdict: 'solved', detail: skippedNote };
    const rest = this.probeMode === 'skip' ? withoutProbe(task.check) : task.check;
    const result = rest ? evaluate(rest, await this.observation()) : { passed: true, detail: '' };
    if (this.probeMode === 'skip' && readsProbe(task.check) && result.passed) {
      return { task, verdict: 'needs-browser', detail: `${skippedNote}; ${rest ? 'the rest of its check holds' : 'its check is all probe'}` };
    }
    return { task, verdict: 'failed', detail: result.detail || 'the app does not show it solved' };
  }

  /** Performs steps as a learner would, each answered before the next (`where` names them in errors). */
  async steps(steps: readonly Step[], where: string): Promise<void> {
    if (!this.sandboxPath) await this.openPage();
    for (const [i, step] of steps.entries()) await this.perform(step, `${where}[${i}]`);
  }

  private async openPage(): Promise<void> {
    const page = await this.browser.open(`/lessons/${this.lesson.slug}`);
    if (page.status !== 200) throw new Error(`the lesson page answered ${page.status}`);
    const path = /data-sandbox-path="(\/sandbox\/[A-Za-z0-9_-]{22})"/.exec(page.text)?.[1];
    if (!path) throw new Error('the lesson page shows no sandbox');
    this.sandboxPath = path;
  }

  /** The tasks the app shows solved, asked as the page asks after every exchange (a pass is saved). */
  async solvedTasks(): Promise<Set<string>> {
    const answer = await this.browser.submit('GET', `/lessons/${this.lesson.slug}/tasks`);
    if (answer.status !== 200) throw new Error(`the tasks answered ${answer.status}`);
    const solved = new Set<string>();
    for (const [, attributes] of answer.text.matchAll(/<li\b([^>]*)>/g)) {
      const id = /\bid="task-([a-z0-9-]+)"/.exec(attributes!)?.[1];
      if (id && /\bclass="[^"]*\bsolved\b/.test(attributes!)) solved.add(id);
    }
    return solved;
  }

  /** What the tasks route checks: the sandbox's exchanges, options, probe and restarts, as recorded. */
  async observation(): Promise<Observation> {
    const found = await this.lab.registry.find(this.sandboxPath.split('/').pop()!);
    const sandbox = found && (await this.lab.registry.current(found));
    if (!sandbox) throw new Error('the sandbox is gone');
    return { exchanges: sandbox.exchanges, options: sandbox.options, probe: sandbox.probe?.value ?? null, probeAt: sandbox.probe?.at ?? null, probeSent: sandbox.probe?.sent ?? null, restarts: sandbox.restarts };
  }

  private async perform(step: Step, where: string): Promise<void> {
    if ('crossSite' in step) throw new Error(`${where}: sent from the second site, which only the Chromium replay can perform`);
    if ('option' in step) await this.setOption(step, where);
    else if ('request' in step) await (await this.press(step)).done;
    else if ('wait' in step) await sleep(step.wait); // lesson content (a cookie expiring), not synchronisation
    else if ('together' in step) await this.together(step.together, where);
    else if (this.probeMode === 'jar') await this.probe(where);
    // The page refreshes "What your browser did" after an exchange or an options change (a restart
    // answers with a note, not an exchange), and that request reports document.cookie too.
    const refreshesJar = 'option' in step || ('request' in step && step.request !== 'restart');
    if (this.probeMode === 'jar' && refreshesJar) await this.refreshJar(where);
    // A skipped probe step changes nothing to look at.
    if (!('probe' in step) || this.probeMode === 'jar') await this.solvedTasks();
  }

  /** Presses Read document.cookie: reports what page JavaScript under the sandbox's path would see. */
  private async probe(where: string): Promise<void> {
    const documentCookie = await this.browser.documentCookie(`${this.sandboxPath}/frame`);
    const answer = await this.browser.submit('POST', `${this.sandboxPath}/probe`, { documentCookie });
    if (answer.status !== 204) throw new Error(`${where}: the probe answered ${answer.status}`);
  }

  /** The jar's refresh, as public/cookie-probe.js sends it: what document.cookie shows, in X-Document-Cookie. */
  private async refreshJar(where: string): Promise<void> {
    const documentCookie = await this.browser.documentCookie(`${this.sandboxPath}/frame`);
    const answer = await this.browser.submit('GET', `${this.sandboxPath}/jar`, {}, { 'x-document-cookie': encodeURIComponent(documentCookie) });
    if (answer.status !== 200) throw new Error(`${where}: the jar answered ${answer.status}`);
  }

  /** Sets one control of the options form; htmx then submits the whole form, as it shows the options. */
  private async setOption(step: OptionStep, where: string): Promise<void> {
    const field = formField(step.option);
    const answer = await this.browser.submit('GET', `/api${this.sandboxPath.replace('/sandbox/', '/sandboxes/')}/options`);
    const form = formValues(JSON.parse(answer.text) as SandboxOptions);
    const wanted = optionFormValue(step);
    // The browser fires no change for a control set to the value it has: nothing is sent.
    if (form[field] === wanted) return;
    form[field] = wanted;
    // An unchecked box is not submitted at all.
    const submitted: Record<string, string> = Object.fromEntries(Object.entries(form).filter(([name, value]) => value !== '' || !CHECKBOXES.has(name)));
    const result = await this.browser.submit('POST', `${this.sandboxPath}/options`, submitted);
    if (result.status !== 200) throw new Error(`${where}: setting ${step.option} to ${JSON.stringify(step.value)} answered ${result.status}: ${firstAlert(result.text)}`);
  }

  /** Presses a request's button, after typing the step's fields into its form; `done` is its answer. */
  private async press(step: RequestStep): Promise<{ done: Promise<unknown>; path: string }> {
    if (step.key !== undefined) this.fields.key = step.key;
    if (step.value !== undefined) this.fields.value = step.value;
    if (step.ms !== undefined) this.fields.ms = String(step.ms);
    const path = `${this.sandboxPath}/${step.request}`;
    const fields: Record<string, string> = step.request === 'write' ? { key: this.fields.key, value: this.fields.value } : step.request === 'slow' ? { ms: this.fields.ms } : {};
    const method = step.request === 'visit' || step.request === 'slow' ? 'GET' : 'POST';
    return { done: this.browser.submit(method, path, fields), path };
  }

  /** Starts the first request and, once it is in flight with its session, performs the others. */
  private async together([first, ...rest]: Step[], where: string): Promise<void> {
    if (!first || !('request' in first)) throw new Error(`${where}: "together" starts with a request`);
    const inFlight = this.lab.sessionLoaded(`${this.sandboxPath}/${first.request}`);
    const { done } = await this.press(first);
    await Promise.race([inFlight, done]);
    for (const [i, other] of rest.entries()) await this.perform(other, `${where}.together[${i + 1}]`);
    await done;
  }
}

/** The form fields that are checkboxes. */
const CHECKBOXES = new Set(OPTION_FIELDS.filter((option) => OPTION_CONTROLS[option] === 'checkbox').map(formField));

/** The check without its probe parts (null when nothing else is left); a probe read after an exchange keeps that exchange's conditions. */
export function withoutProbe(check: Check): Check | null {
  if (check.kind === 'probe') return check.after ? { kind: 'exchange', which: 'any', where: check.after, description: check.description } : null;
  if (check.kind !== 'all') return check;
  const checks = check.checks.map(withoutProbe).filter((part): part is Check => part !== null);
  return checks.length ? { ...check, checks } : null;
}

function firstAlert(html: string): string {
  return (/role="alert"[^>]*>([\s\S]*?)<\//.exec(html)?.[1] ?? html.slice(0, 200)).replace(/<[^>]+>/g, '').trim();
}
