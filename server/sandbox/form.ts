// The options form, both ways: the options as the form shows them, and a submitted form (urlencoded:
// checkboxes absent when off, everything a string) as the JSON shape validateOptions takes, leaving
// type errors for it to report by field.
import type { SandboxOptions } from './options.ts';

export interface FieldError {
  field: string;
  message: string;
}

/** The form as shown: its values, and the field a refused change was refused for. */
export interface FormState {
  values: Record<string, unknown>;
  error: FieldError | null;
  /** Several refused fields at once (a share link's: server/sandbox/share-link.ts), each shown beside its field. */
  errors?: FieldError[];
}

export function formToOptions(body: Record<string, unknown>): Record<string, unknown> {
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : '');
  const checked = (key: string) => body[key] === 'on' || body[key] === 'true';
  const maxAge = text('maxAge').trim();
  return {
    name: text('name').trim(),
    secret: text('secret').split(/\r?\n/).map((s) => s.trim()).filter(Boolean),
    cookie: {
      maxAge: maxAge === '' ? null : /^-?\d+$/.test(maxAge) ? Number(maxAge) : maxAge,
      secure: choice(text('secure'), { true: true, false: false, auto: 'auto' }),
      httpOnly: checked('httpOnly'),
      sameSite: choice(text('sameSite'), { '': false, false: false, true: true, lax: 'lax', strict: 'strict', none: 'none', auto: 'auto' }),
      domain: text('domain').trim() || null,
    },
    resave: checked('resave'),
    saveUninitialized: checked('saveUninitialized'),
    rolling: checked('rolling'),
    unset: text('unset'),
    proxy: choice(text('proxy'), { '': null, null: null, true: true, false: false }),
    store: text('store'),
    corsOrigin: text('corsOrigin') || 'off',
    corsCredentials: checked('corsCredentials'),
  };
}

/** A known choice maps to its value; anything else passes through for validation to name. */
function choice(value: string, known: Record<string, unknown>): unknown {
  return Object.hasOwn(known, value) ? known[value] : value;
}

/** The options as the form shows them (all strings, like a submitted form). */
export function formValues(options: SandboxOptions): Record<string, string> {
  const { cookie } = options;
  return {
    name: options.name,
    secret: options.secret.join('\n'),
    maxAge: cookie.maxAge === null ? '' : String(cookie.maxAge),
    secure: String(cookie.secure),
    httpOnly: cookie.httpOnly ? 'on' : '',
    sameSite: cookie.sameSite === false ? '' : String(cookie.sameSite),
    domain: cookie.domain ?? '',
    resave: options.resave ? 'on' : '',
    saveUninitialized: options.saveUninitialized ? 'on' : '',
    rolling: options.rolling ? 'on' : '',
    unset: options.unset,
    proxy: options.proxy === null ? '' : String(options.proxy),
    store: options.store,
    corsOrigin: options.corsOrigin,
    corsCredentials: options.corsCredentials ? 'on' : '',
  };
}
