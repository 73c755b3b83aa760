// The lesson file format, and its validation: a lesson with an error stops start-up with a
// message naming the file, the task and the field.
import type { Check, ExchangeConditions, OptionsConditions } from './checks.ts';
import { OptionsError, validateOptions, type SandboxOptions } from '../sandbox/options.ts';

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
/** Start the first request and, while it is in flight, the others (for races). */
export interface TogetherStep {
  together: Step[];
}
export type Step = OptionStep | RequestStep | ProbeStep | WaitStep | TogetherStep;

export interface Task {
  id: string;
  title: string;
  instructions: string;
  check: Check;
  hints: string[];
  /** Shown once the task is solved. */
  why: string;
  solution: Step[];
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
}

export class LessonError extends Error {
  constructor(file: string, where: string, message: string) {
    super(`${file}: ${where ? `${where}: ` : ''}${message}`);
  }
}

const FIELDS = ['title', 'summary', 'article', 'sandbox', 'links', 'tasks'];
const TASK_FIELDS = ['id', 'title', 'instructions', 'check', 'hints', 'why', 'solution'];
const REQUESTS = ['visit', 'write', 'slow', 'regenerate', 'destroy', 'unset', 'restart'];
const OPTION_FIELDS = ['name', 'secret', 'cookie.maxAge', 'cookie.secure', 'cookie.httpOnly', 'cookie.sameSite', 'cookie.domain', 'resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store'];

/** Validates parsed front matter; `file` and `where` only make messages precise. */
export function validateLesson(file: string, slug: string, number: number, data: unknown, body: string): Lesson {
  const fail = (where: string, message: string): never => {
    throw new LessonError(file, where, message);
  };
  const lesson = object(data, 'front matter', fail);
  for (const key of Object.keys(lesson)) if (!FIELDS.includes(key)) fail(key, `unknown field; the fields are: ${FIELDS.join(', ')}`);
  let sandbox: SandboxOptions;
  try {
    sandbox = validateOptions(lesson.sandbox ?? {});
  } catch (err) {
    if (err instanceof OptionsError) return fail(`sandbox.${err.field}`, err.message);
    throw err;
  }
  const article = lesson.article === undefined ? null : object(lesson.article, 'article', fail);
  const tasks = array(lesson.tasks, 'tasks', fail).map((task, i) => validateTask(task, `task ${i + 1}`, fail));
  if (tasks.length === 0) fail('tasks', 'a lesson needs at least one task');
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
      const url = text(l.url, `links[${i}].url`, fail);
      if (!/^https:\/\//.test(url)) fail(`links[${i}].url`, 'must be an https:// address');
      return { title: text(l.title, `links[${i}].title`, fail), url };
    }),
    body,
    tasks,
  };
}

type Fail = (where: string, message: string) => never;

function validateTask(value: unknown, label: string, fail: Fail): Task {
  const task = object(value, label, fail);
  const id = text(task.id, `${label}: id`, fail);
  if (!/^[a-z0-9-]+$/.test(id)) fail(`${label}: id`, 'use lowercase letters, digits and hyphens');
  const where = `task "${id}"`;
  for (const key of Object.keys(task)) if (!TASK_FIELDS.includes(key)) fail(`${where}: ${key}`, `unknown field; the task fields are: ${TASK_FIELDS.join(', ')}`);
  return {
    id,
    title: text(task.title, `${where}: title`, fail),
    instructions: text(task.instructions, `${where}: instructions`, fail),
    check: validateCheck(task.check, `${where}: check`, fail),
    hints: nonEmpty(array(task.hints, `${where}: hints`, fail), `${where}: hints`, fail).map((hint, i) => text(hint, `${where}: hints[${i}]`, fail)),
    why: text(task.why, `${where}: why`, fail),
    solution: nonEmpty(array(task.solution, `${where}: solution`, fail), `${where}: solution`, fail).map((step, i) => validateStep(step, `${where}: solution[${i}]`, fail)),
  };
}

function validateStep(value: unknown, where: string, fail: Fail): Step {
  const step = object(value, where, fail);
  if ('option' in step) {
    const option = text(step.option, `${where}.option`, fail);
    if (!OPTION_FIELDS.includes(option)) fail(`${where}.option`, `unknown option; one of: ${OPTION_FIELDS.join(', ')}`);
    const v = step.value;
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) fail(`${where}.value`, 'must be a string, number, boolean or null');
    return { option, value: v as string | number | boolean | null };
  }
  if ('request' in step) {
    if (!REQUESTS.includes(step.request as string)) fail(`${where}.request`, `must be one of: ${REQUESTS.join(', ')}`);
    if (step.ms !== undefined && (typeof step.ms !== 'number' || step.ms < 0 || step.ms > 5000)) fail(`${where}.ms`, 'must be a number of milliseconds up to 5000');
    for (const key of ['key', 'value'] as const) if (step[key] !== undefined && typeof step[key] !== 'string') fail(`${where}.${key}`, 'must be a string');
    return step as Step;
  }
  if ('probe' in step) return { probe: true };
  if ('wait' in step) {
    if (typeof step.wait !== 'number' || step.wait < 0 || step.wait > 10_000) fail(`${where}.wait`, 'must be a number of milliseconds up to 10000');
    return { wait: step.wait as number };
  }
  if ('together' in step) {
    const together = nonEmpty(array(step.together, `${where}.together`, fail), `${where}.together`, fail).map((s, i) => validateStep(s, `${where}.together[${i}]`, fail));
    if (!('request' in together[0]!)) fail(`${where}.together[0]`, 'the first of "together" must be a request (it is started first)');
    return { together };
  }
  return fail(where, 'a step is one of: option, request, probe, wait, together');
}

const CHECK_KINDS = ['exchange', 'probe', 'options', 'race', 'all'];

export function validateCheck(value: unknown, where: string, fail: Fail): Check {
  const check = object(value, where, fail);
  const description = text(check.description, `${where}.description`, fail);
  switch (check.kind) {
    case 'exchange': {
      const which = check.which ?? 'latest';
      if (which !== 'latest' && which !== 'any') fail(`${where}.which`, 'must be "latest" or "any"');
      return { kind: 'exchange', which, where: validateConditions(check.where, `${where}.where`, fail), description };
    }
    case 'probe':
      if (typeof check.cookieVisible !== 'boolean') fail(`${where}.cookieVisible`, 'must be true or false');
      return { kind: 'probe', cookieVisible: check.cookieVisible as boolean, description };
    case 'options':
      return { kind: 'options', where: validateOptionsConditions(check.where, `${where}.where`, fail), description };
    case 'race':
      if (typeof check.resave !== 'boolean') fail(`${where}.resave`, 'must be true or false');
      if (typeof check.kept !== 'boolean') fail(`${where}.kept`, 'must be true or false');
      return { kind: 'race', resave: check.resave as boolean, kept: check.kept as boolean, description };
    case 'all':
      return { kind: 'all', checks: nonEmpty(array(check.checks, `${where}.checks`, fail), `${where}.checks`, fail).map((c, i) => validateCheck(c, `${where}.checks[${i}]`, fail)), description };
    default:
      return fail(`${where}.kind`, `must be one of: ${CHECK_KINDS.join(', ')}`);
  }
}

const CONDITIONS = ['action', 'setCookie', 'attributes', 'requestCookie', 'verifiedBy', 'storeCalls', 'sessionFound', 'sessionAfter', 'why', 'options'];
const ATTRIBUTES = ['httpOnly', 'secure', 'expires', 'sameSite', 'domain'];
const OPS = ['get', 'set', 'touch', 'destroy'];

function validateConditions(value: unknown, where: string, fail: Fail): ExchangeConditions {
  const c = object(value, where, fail);
  for (const key of Object.keys(c)) if (!CONDITIONS.includes(key)) fail(`${where}.${key}`, `unknown condition; the conditions are: ${CONDITIONS.join(', ')}`);
  if (c.action !== undefined && !REQUESTS.includes(c.action as string)) fail(`${where}.action`, `must be one of: ${REQUESTS.join(', ')}`);
  for (const key of ['setCookie', 'sessionFound'] as const) if (c[key] !== undefined && typeof c[key] !== 'boolean') fail(`${where}.${key}`, 'must be true or false');
  if (c.attributes !== undefined) {
    const attributes = object(c.attributes, `${where}.attributes`, fail);
    for (const [key, v] of Object.entries(attributes)) {
      if (!ATTRIBUTES.includes(key)) fail(`${where}.attributes.${key}`, `unknown attribute; one of: ${ATTRIBUTES.join(', ')}`);
      if (typeof v !== 'boolean' && typeof v !== 'string') fail(`${where}.attributes.${key}`, 'must be true, false or a value');
    }
  }
  if (c.requestCookie !== undefined && !['absent', 'valid', 'bad-signature', 'unsigned'].includes(c.requestCookie as string)) {
    fail(`${where}.requestCookie`, 'must be one of: absent, valid, bad-signature, unsigned');
  }
  if (c.verifiedBy !== undefined && !(Number.isInteger(c.verifiedBy) && (c.verifiedBy as number) >= 0)) fail(`${where}.verifiedBy`, 'must be a secret index (0 for the first)');
  if (c.storeCalls !== undefined) {
    const calls = object(c.storeCalls, `${where}.storeCalls`, fail);
    for (const key of Object.keys(calls)) {
      if (key !== 'includes' && key !== 'excludes') fail(`${where}.storeCalls.${key}`, 'must be includes or excludes');
      for (const op of array(calls[key], `${where}.storeCalls.${key}`, fail)) if (!OPS.includes(op as string)) fail(`${where}.storeCalls.${key}`, `"${String(op)}" is not one of: ${OPS.join(', ')}`);
    }
  }
  if (c.sessionAfter !== undefined) {
    const after = object(c.sessionAfter, `${where}.sessionAfter`, fail);
    for (const key of Object.keys(after)) if (!['exists', 'has', 'lacks'].includes(key)) fail(`${where}.sessionAfter.${key}`, 'must be exists, has or lacks');
    if (after.exists !== undefined && typeof after.exists !== 'boolean') fail(`${where}.sessionAfter.exists`, 'must be true or false');
    if (after.has !== undefined) for (const [k, v] of Object.entries(object(after.has, `${where}.sessionAfter.has`, fail))) if (typeof v !== 'string') fail(`${where}.sessionAfter.has.${k}`, 'must be a string');
    if (after.lacks !== undefined) for (const k of array(after.lacks, `${where}.sessionAfter.lacks`, fail)) if (typeof k !== 'string') fail(`${where}.sessionAfter.lacks`, 'must list strings');
  }
  if (c.why !== undefined) text(c.why, `${where}.why`, fail);
  if (c.options !== undefined) validateOptionsConditions(c.options, `${where}.options`, fail);
  return c as ExchangeConditions;
}

const OPTION_CONDITIONS = ['name', 'secretCount', 'secretExcludes', 'cookie', 'resave', 'saveUninitialized', 'rolling', 'unset', 'proxy', 'store'];
const COOKIE_CONDITIONS = ['maxAge', 'secure', 'httpOnly', 'sameSite', 'domain'];

function validateOptionsConditions(value: unknown, where: string, fail: Fail): OptionsConditions {
  const c = object(value, where, fail);
  for (const key of Object.keys(c)) if (!OPTION_CONDITIONS.includes(key)) fail(`${where}.${key}`, `unknown option; one of: ${OPTION_CONDITIONS.join(', ')}`);
  if (c.cookie !== undefined) {
    for (const key of Object.keys(object(c.cookie, `${where}.cookie`, fail))) {
      if (!COOKIE_CONDITIONS.includes(key)) fail(`${where}.cookie.${key}`, `unknown cookie option; one of: ${COOKIE_CONDITIONS.join(', ')}`);
      const wanted = (c.cookie as Record<string, unknown>)[key];
      if (typeof wanted === 'object' && wanted !== null) {
        const form = Object.keys(wanted);
        if (form.length !== 1 || !['atLeast', 'atMost', 'oneOf', 'not'].includes(form[0]!)) {
          fail(`${where}.cookie.${key}`, 'a value, or one of { atLeast: n }, { atMost: n }, { oneOf: [...] }, { not: value }');
        }
        if ('oneOf' in wanted && !Array.isArray((wanted as { oneOf: unknown }).oneOf)) fail(`${where}.cookie.${key}.oneOf`, 'must be a list');
      }
    }
  }
  if (c.secretExcludes !== undefined) text(c.secretExcludes, `${where}.secretExcludes`, fail);
  if (c.name !== undefined) {
    const name = c.name as unknown;
    const ok = typeof name === 'string' || (typeof name === 'object' && name !== null && Object.keys(name).length === 1 && typeof (name as { not?: unknown }).not === 'string');
    if (!ok) fail(`${where}.name`, 'a name, or { not: name }');
  }
  if (c.secretCount !== undefined && !(Number.isInteger(c.secretCount) && (c.secretCount as number) >= 1)) fail(`${where}.secretCount`, 'must be a whole number of at least 1');
  for (const key of ['resave', 'saveUninitialized', 'rolling'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') fail(`${where}.${key}`, 'must be true or false');
  }
  if (c.unset !== undefined && c.unset !== 'keep' && c.unset !== 'destroy') fail(`${where}.unset`, 'must be keep or destroy');
  if (c.proxy !== undefined && c.proxy !== null && typeof c.proxy !== 'boolean') fail(`${where}.proxy`, 'must be true, false or null');
  if (c.store !== undefined && c.store !== 'memory' && c.store !== 'sqlite') fail(`${where}.store`, 'must be memory or sqlite');
  return c as OptionsConditions;
}

function object(value: unknown, where: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(where, 'must be a mapping (key: value lines)');
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(where, 'must be a list (lines starting with "- ")');
  return value;
}

function nonEmpty(list: unknown[], where: string, fail: Fail): unknown[] {
  if (list.length === 0) fail(where, 'must list at least one item');
  return list;
}

function text(value: unknown, where: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(where, 'must be a non-empty text');
  return value;
}
