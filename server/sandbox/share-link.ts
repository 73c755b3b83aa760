// A sandbox's configuration as a share link, and back: the query of a link to /lab, in the options
// form's own field names (a teacher can read and edit it), naming only what differs from the
// article's options. The secret never goes in the query: a query string reaches server and proxy
// logs; a sender who chooses to share it puts it after '#' (public/share-link.js), which the browser
// keeps to itself. Reading a link checks each field on its own, so every bad field gets its message.
import { articleOptions, OptionsError, validateOptions, type SandboxOptions } from './options.ts';
import { formToOptions, formValues, type FieldError } from './form.ts';

/** The form fields a link may set: every option but the secret. */
const LINK_FIELDS = Object.keys(formValues(articleOptions)).filter((field) => field !== 'secret');
/** The options form's checkboxes: a link says true or false. */
const CHECKBOXES = new Set(['httpOnly', 'resave', 'saveUninitialized', 'rolling', 'corsCredentials']);
/** Not options: presenter mode (?present=1) and a lesson task the link points at (lesson=…&task=…). */
export const LINK_EXTRAS = ['present', 'lesson', 'task'] as const;
/** Longer than any valid value (a domain is at most 253 characters); stops a huge value early. */
const MAX_VALUE_LENGTH = 300;

/** The query (without "?") of the link that recreates `options`, secret left out; '' for the article's. */
export function shareQuery(options: SandboxOptions): string {
  const shown = formValues(options);
  const article = formValues(articleOptions);
  const query = new URLSearchParams();
  for (const field of LINK_FIELDS) {
    if (shown[field] === article[field]) continue;
    query.set(field, CHECKBOXES.has(field) ? String(shown[field] === 'on') : shown[field]!);
  }
  return query.toString();
}

export interface ReadLink {
  /** The link's valid options over the article's (the secret is the article's: see the module comment). */
  options: SandboxOptions;
  /** What the options form should show: the link's values, the invalid ones included. */
  values: Record<string, string>;
  /** One per refused field, named as the form names it. */
  errors: FieldError[];
}

/** Reads a parsed query string (values are strings, or arrays when a name repeats). */
export function readShareQuery(query: Record<string, unknown>): ReadLink {
  const errors: FieldError[] = [];
  const given: Record<string, string> = {};
  for (const [field, raw] of Object.entries(query)) {
    if ((LINK_EXTRAS as readonly string[]).includes(field)) continue;
    if (field === 'secret') {
      errors.push({ field, message: "a link never carries the secret in its query string (it would reach the server's logs); share it after # as #secret=…, or set it here" });
      continue;
    }
    if (!LINK_FIELDS.includes(field)) {
      errors.push({ field, message: `the link names an unknown option "${field.slice(0, 40)}"; a link may set: ${LINK_FIELDS.join(', ')}` });
      continue;
    }
    if (typeof raw !== 'string') {
      errors.push({ field, message: `the link gives ${field} more than once; give it once` });
      continue;
    }
    if (raw.length > MAX_VALUE_LENGTH) {
      errors.push({ field, message: `the link's ${field} is ${raw.length} characters long, longer than any valid value` });
      continue;
    }
    const value = CHECKBOXES.has(field) ? checkbox(raw) : raw;
    if (value === null) {
      errors.push({ field, message: `${field} in a link must be true or false, not "${raw.slice(0, 40)}"` });
      continue;
    }
    given[field] = value;
  }
  // Each field alone over the article's options: any error is that field's.
  const defaults = formValues(articleOptions);
  const valid: Record<string, string> = {};
  for (const [field, value] of Object.entries(given)) {
    try {
      validateOptions(formToOptions({ ...defaults, [field]: value }));
      valid[field] = value;
    } catch (err) {
      if (!(err instanceof OptionsError)) throw err;
      errors.push({ field: err.field, message: err.message });
    }
  }
  // No option depends on another, so the valid fields together are valid.
  const options = validateOptions(formToOptions({ ...defaults, ...valid }));
  return { options, values: { ...defaults, ...given }, errors };
}

/** A link's checkbox value as the form submits it ('on' or ''), or null when it is neither. */
function checkbox(value: string): string | null {
  if (value === 'true' || value === 'on') return 'on';
  if (value === 'false' || value === 'off' || value === '') return '';
  return null;
}
