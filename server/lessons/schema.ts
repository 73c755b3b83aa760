// The lesson file format, and its validation: a lesson with an error stops start-up with a
// message naming the file, the task and the field.
import { readsProbe, type Check } from './checks.ts';
import { validateCheck, heldValue } from './check-schema.ts';
import { array, boolean, keysOf, knownKeys, nonEmpty, object, oneOf, text, whole, type Fail } from './fields.ts';
import { OptionsError, validateOptions, type SandboxOptions } from '../sandbox/options.ts';
import { CROSS_SITE_KINDS, SANDBOX_ACTIONS, type CrossSiteKind } from '../sandbox/model.ts';
import { MAX_SLOW_MS } from '../sandbox/actions.ts';
import { formToOptions } from '../sandbox/form.ts';

/** What a task may need beyond one process: Redis (REDIS_URL), or several instances (INSTANCE_COUNT
 * above 1). A lab without it leaves the task out (server/lessons/features.ts): nobody is asked the impossible. */
export const REQUIREMENTS = ['redis', 'instances'] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

/** What a solution's request step can press: the sandbox's requests, and restarting the server. */
export const STEP_REQUESTS = [...SANDBOX_ACTIONS, 'restart'] as const;
export type StepRequest = (typeof STEP_REQUESTS)[number];

/** An option a solution step can set: a top-level one, or `cookie.` and a cookie option. */
export type OptionField = Exclude<keyof SandboxOptions, 'cookie'> | `cookie.${keyof SandboxOptions['cookie']}`;

/** Each option a step can set, and the control the options form shows for it (what the replays operate). */
export const OPTION_CONTROLS: Record<OptionField, 'text' | 'textarea' | 'select' | 'checkbox'> = {
  name: 'text',
  secret: 'textarea',
  'cookie.maxAge': 'text',
  'cookie.secure': 'select',
  'cookie.httpOnly': 'checkbox',
  'cookie.sameSite': 'select',
  'cookie.domain': 'text',
  resave: 'checkbox',
  saveUninitialized: 'checkbox',
  rolling: 'checkbox',
  unset: 'select',
  proxy: 'select',
  store: 'select',
  corsOrigin: 'select',
  corsCredentials: 'checkbox',
};
export const OPTION_FIELDS = Object.keys(OPTION_CONTROLS) as OptionField[];

export interface OptionStep {
  option: OptionField;
  value: string | number | boolean | null;
}
export interface RequestStep {
  request: StepRequest;
  key?: string;
  value?: string;
  ms?: number;
}
export interface ProbeStep {
  probe: true;
}
export interface WaitStep {
  wait: number;
}
/**
 * Send one kind of request from the lab's second site (its page, in another tab): only a browser
 * decides what goes along, so only the Chromium replay performs it. `forwardedProto` ticks that
 * page's "Add X-Forwarded-Proto: https" first (fetches only).
 */
export interface CrossSiteStep {
  crossSite: CrossSiteKind;
  forwardedProto?: boolean;
}
/** Start the first request and, while it is in flight, the others (for races). */
export interface TogetherStep {
  together: Step[];
}
export type Step = OptionStep | RequestStep | ProbeStep | WaitStep | TogetherStep | CrossSiteStep;

/** Something a learner may try instead of what the task teaches, which must leave the task open. */
export interface WrongWay {
  /** What the learner does, and why it does not count, in a few words. */
  name: string;
  /** Performed after the earlier tasks' solutions; the task's own solution must still solve it afterwards. */
  steps: Step[];
}

export interface Task {
  id: string;
  title: string;
  instructions: string;
  check: Check;
  hints: string[];
  /** Shown once the task is solved. */
  why: string;
  solution: Step[];
  /** Ways that must not solve the task (the replays try each one); none when the lesson lists none. */
  wrongWays: WrongWay[];
  /** What the lab must have for this task to be offered; none for most. */
  requires: Requirement[];
}

export interface Lesson {
  slug: string;
  number: number;
  file: string;
  title: string;
  summary: string;
  /** The article's own words, and what express-session really does. */
  article: { quote: string; verdict: string } | null;
  sandbox: SandboxOptions;
  links: { title: string; url: string }[];
  body: string;
  tasks: Task[];
  /** Shows the second site's panel beside the sandbox (its link and the cross-site grid): lessons whose tasks are sent from there. */
  crossSite: boolean;
}

export class LessonError extends Error {
  constructor(file: string, where: string, message: string) {
    super(`${file}: ${where ? `${where}: ` : ''}${message}`);
  }
}

type FrontMatter = Pick<Lesson, 'title' | 'summary' | 'article' | 'sandbox' | 'links' | 'tasks' | 'crossSite'>;
const FIELDS = keysOf<FrontMatter>({ title: true, summary: true, article: true, sandbox: true, links: true, tasks: true, crossSite: true });
const ARTICLE_FIELDS = keysOf<NonNullable<Lesson['article']>>({ quote: true, verdict: true });
const LINK_FIELDS = keysOf<Lesson['links'][number]>({ title: true, url: true });
const TASK_FIELDS = keysOf<Task>({ id: true, title: true, instructions: true, check: true, hints: true, why: true, solution: true, wrongWays: true, requires: true });
const WRONG_WAY_FIELDS = keysOf<WrongWay>({ name: true, steps: true });
/** The keys of each kind of step; a step has exactly one of these kinds as a key. */
const STEP_KEYS = {
  option: keysOf<OptionStep>({ option: true, value: true }),
  request: keysOf<RequestStep>({ request: true, key: true, value: true, ms: true }),
  probe: keysOf<ProbeStep>({ probe: true }),
  wait: keysOf<WaitStep>({ wait: true }),
  together: keysOf<TogetherStep>({ together: true }),
  crossSite: keysOf<CrossSiteStep>({ crossSite: true, forwardedProto: true }),
};
export const STEP_KINDS = Object.keys(STEP_KEYS) as (keyof typeof STEP_KEYS)[];
/** What a request takes besides `request`: the fields of its form (the others have none). */
const REQUEST_INPUTS: Partial<Record<StepRequest, readonly (keyof RequestStep)[]>> = { write: ['key', 'value'], slow: ['ms'] };
const MAX_WAIT_MS = 10_000;

/** The form field of an option (`cookie.maxAge` is the form's `maxAge`). */
export function formField(option: OptionField): string {
  return option.replace(/^cookie\./, '');
}

/** What a step puts in its option's form control, as the browser submits it ('' for an unchecked box or an empty field). */
export function optionFormValue(step: OptionStep): string {
  if (OPTION_CONTROLS[step.option] === 'checkbox') return step.value === true ? 'on' : '';
  return step.value === null || (step.value === false && step.option === 'cookie.sameSite') ? '' : String(step.value);
}

/** Whether any of the steps is sent from the second site (only the Chromium replay can perform those). */
export function sendsFromOtherSite(steps: readonly Step[]): boolean {
  return flatSteps(steps).some((step) => 'crossSite' in step);
}

/** Every step of a solution, the ones inside "together" included, in order. */
export function flatSteps(steps: readonly Step[]): Step[] {
  return steps.flatMap((step) => ('together' in step ? flatSteps(step.together) : [step]));
}

/** Validates parsed front matter; `file` and `where` only make messages precise. */
export function validateLesson(file: string, slug: string, number: number, data: unknown, body: string): Lesson {
  const fail = (where: string, message: string): never => {
    throw new LessonError(file, where, message);
  };
  const lesson = object(data, 'front matter', fail);
  knownKeys(lesson, FIELDS, 'the front matter', 'front matter', fail);
  let sandbox: SandboxOptions;
  try {
    sandbox = validateOptions(lesson.sandbox ?? {});
  } catch (err) {
    if (err instanceof OptionsError) return fail(`sandbox.${err.field}`, err.message);
    throw err;
  }
  const article = lesson.article === undefined ? null : object(lesson.article, 'article', fail);
  if (article) knownKeys(article, ARTICLE_FIELDS, 'article', 'article', fail);
  const tasks = array(lesson.tasks, 'tasks', fail).map((task, i) => validateTask(task, `task ${i + 1}`, fail));
  if (tasks.length === 0) fail('tasks', 'a lesson needs at least one task');
  const crossSite = lesson.crossSite === undefined ? false : boolean(lesson.crossSite, 'crossSite', fail);
  for (const task of tasks) {
    const steps = [...task.solution, ...task.wrongWays.flatMap((w) => w.steps)];
    if (!crossSite && sendsFromOtherSite(steps)) fail(`task "${task.id}"`, 'its steps send from the second site: the lesson must say "crossSite: true" (the page then shows the link to it)');
  }
  const ids = new Set<string>();
  for (const task of tasks) {
    if (ids.has(task.id)) fail(`task "${task.id}"`, 'two tasks share this id');
    ids.add(task.id);
  }
  return {
    slug,
    number,
    file,
    title: text(lesson.title, 'title', fail),
    summary: text(lesson.summary, 'summary', fail),
    article: article ? { quote: text(article.quote, 'article.quote', fail), verdict: text(article.verdict, 'article.verdict', fail) } : null,
    sandbox,
    links: (lesson.links === undefined ? [] : array(lesson.links, 'links', fail)).map((link, i) => {
      const l = object(link, `links[${i}]`, fail);
      knownKeys(l, LINK_FIELDS, 'a link', `links[${i}]`, fail);
      const url = text(l.url, `links[${i}].url`, fail);
      if (!/^https:\/\//.test(url)) fail(`links[${i}].url`, 'must be an https:// address');
      return { title: text(l.title, `links[${i}].title`, fail), url };
    }),
    body,
    tasks,
    crossSite,
  };
}

function validateTask(value: unknown, label: string, fail: Fail): Task {
  const task = object(value, label, fail);
  const id = text(task.id, `${label}: id`, fail);
  if (!/^[a-z0-9-]+$/.test(id)) fail(`${label}: id`, 'use lowercase letters, digits and hyphens');
  const where = `task "${id}"`;
  knownKeys(task, TASK_FIELDS, 'a task', where, fail);
  const check = validateCheck(task.check, `${where}: check`, fail);
  const solution = nonEmpty(array(task.solution, `${where}: solution`, fail), `${where}: solution`, fail).map((step, i) => validateStep(step, `${where}: solution[${i}]`, fail));
  if (readsProbe(check) && !flatSteps(solution).some((step) => 'probe' in step)) {
    fail(`${where}: solution`, 'the check reads what page JavaScript saw, so the solution needs a "probe: true" step');
  }
  return {
    id,
    title: text(task.title, `${where}: title`, fail),
    instructions: text(task.instructions, `${where}: instructions`, fail),
    check,
    hints: nonEmpty(array(task.hints, `${where}: hints`, fail), `${where}: hints`, fail).map((hint, i) => text(hint, `${where}: hints[${i}]`, fail)),
    why: text(task.why, `${where}: why`, fail),
    solution,
    wrongWays: (task.wrongWays === undefined ? [] : array(task.wrongWays, `${where}: wrongWays`, fail)).map((value, i) => {
      const at = `${where}: wrongWays[${i}]`;
      const wrongWay = object(value, at, fail);
      knownKeys(wrongWay, WRONG_WAY_FIELDS, 'a wrong way', at, fail);
      const steps = nonEmpty(array(wrongWay.steps, `${at}.steps`, fail), `${at}.steps`, fail).map((step, j) => validateStep(step, `${at}.steps[${j}]`, fail));
      return { name: text(wrongWay.name, `${at}.name`, fail), steps };
    }),
    requires: (task.requires === undefined ? [] : array(task.requires, `${where}: requires`, fail)).map((value, i) => oneOf(value, REQUIREMENTS, `${where}: requires[${i}]`, fail)),
  };
}

function validateStep(value: unknown, where: string, fail: Fail): Step {
  const step = object(value, where, fail);
  const kinds = STEP_KINDS.filter((kind) => Object.hasOwn(step, kind));
  if (kinds.length !== 1) {
    fail(where, `a step is one of: ${STEP_KINDS.join(', ')}${kinds.length > 1 ? ` (this one has ${kinds.join(' and ')}: make them separate steps)` : ''}`);
  }
  const kind = kinds[0]!;
  knownKeys(step, STEP_KEYS[kind], `${kind === 'option' ? 'an' : 'a'} ${kind} step`, where, fail);
  switch (kind) {
    case 'option':
      return validateOptionStep(step, where, fail);
    case 'request': {
      const request = oneOf(step.request, STEP_REQUESTS, `${where}.request`, fail);
      const inputs = REQUEST_INPUTS[request] ?? [];
      for (const key of ['key', 'value', 'ms'] as const) {
        if (step[key] !== undefined && !inputs.includes(key)) fail(where, `a ${request} request takes no ${JSON.stringify(key)}; it takes: ${['request', ...inputs].join(', ')}`);
      }
      if (step.ms !== undefined) whole(step.ms, 0, MAX_SLOW_MS, `${where}.ms`, fail, `must be a whole number of milliseconds up to ${MAX_SLOW_MS}`);
      if (step.key !== undefined) text(step.key, `${where}.key`, fail);
      if (step.value !== undefined && typeof step.value !== 'string') fail(`${where}.value`, "must be a string (quote it: '42', 'yes')");
      return step as unknown as RequestStep;
    }
    case 'probe':
      if (step.probe !== true) fail(`${where}.probe`, 'must be true (the step presses Read document.cookie)');
      return { probe: true };
    case 'wait':
      return { wait: whole(step.wait, 0, MAX_WAIT_MS, `${where}.wait`, fail, `must be a whole number of milliseconds up to ${MAX_WAIT_MS}`) };
    case 'together': {
      const list = array(step.together, `${where}.together`, fail);
      if (list.length < 2) fail(`${where}.together`, 'must list the request to start and at least one step to perform while it is in flight');
      const together = list.map((s, i) => validateStep(s, `${where}.together[${i}]`, fail));
      if (!('request' in together[0]!)) fail(`${where}.together[0]`, 'the first of "together" must be a request (it is started first)');
      if (sendsFromOtherSite(together)) fail(`${where}.together`, 'a step sent from the second site cannot run together with the sandbox page\'s requests');
      return { together };
    }
    case 'crossSite': {
      const crossSite = oneOf(step.crossSite, CROSS_SITE_KINDS, `${where}.crossSite`, fail);
      if (step.forwardedProto === undefined) return { crossSite };
      const forwardedProto = boolean(step.forwardedProto, `${where}.forwardedProto`, fail);
      if (forwardedProto && crossSite !== 'fetch' && crossSite !== 'fetch-credentials') fail(`${where}.forwardedProto`, 'only the fetches can add X-Forwarded-Proto (a page cannot add headers to a link, form, image or frame)');
      return { crossSite, forwardedProto };
    }
  }
}

/** The option must be one the form has, and the value one the sandbox would take from that control. */
function validateOptionStep(step: Record<string, unknown>, where: string, fail: Fail): OptionStep {
  const option = step.option;
  if (!(OPTION_FIELDS as unknown[]).includes(option)) fail(`${where}.option`, `unknown option; one of: ${OPTION_FIELDS.join(', ')}`);
  const field = option as OptionField;
  const v = step.value;
  if (OPTION_CONTROLS[field] === 'checkbox') boolean(v, `${where}.value`, fail);
  else if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) fail(`${where}.value`, 'must be a string, number, boolean or null');
  const parsed: OptionStep = { option: field, value: v as OptionStep['value'] };
  // What the server makes of the submitted control, checked as the sandbox checks it.
  const form = formToOptions({ [formField(field)]: optionFormValue(parsed) }) as Record<string, unknown> & { cookie: Record<string, unknown> };
  const [top, cookieKey] = field.split('.');
  heldValue(field, cookieKey ? form.cookie[cookieKey] : form[top!], `${where}.value`, fail);
  return parsed;
}
