// Turns the options form (urlencoded: checkboxes absent when off, everything a string) into the
// JSON shape validateOptions takes, leaving type errors for it to report by field.
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
  };
}

/** A known choice maps to its value; anything else passes through for validation to name. */
function choice(value: string, known: Record<string, unknown>): unknown {
  return Object.hasOwn(known, value) ? known[value] : value;
}
