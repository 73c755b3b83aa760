// The code a learner takes home: a small Express app with the sandbox's session options, in the
// three forms people write (ES modules, CommonJS, TypeScript). Each runs as given once its packages
// are installed (`test/session-code.test.ts` checks every form with node --check and tsc).
import type { SandboxOptions } from './options.ts';

export interface SessionCode {
  esm: string;
  cjs: string;
  ts: string;
  /** The npm packages the code needs. */
  packages: string[];
}

type Form = keyof Omit<SessionCode, 'packages'>;

/** A published store for each of the lab's stores, with how each form brings it in. */
const STORES = {
  sqlite: {
    package: 'connect-sqlite3',
    esm: ["import connectSqlite3 from 'connect-sqlite3';"],
    cjs: ["const connectSqlite3 = require('connect-sqlite3');"],
    setup: 'const SQLiteStore = connectSqlite3(session);',
    option: "store: new SQLiteStore({ db: 'sessions.sqlite', dir: '.' }), // sessions survive a restart",
    // @types/connect-sqlite3 declares a Store of its own that today's @types/express-session rejects.
    tsOption: "store: new SQLiteStore({ db: 'sessions.sqlite', dir: '.' }) as unknown as Store, // its types predate express-session's",
  },
} as const;

export function sessionCode(options: SandboxOptions): SessionCode {
  const store = options.store === 'memory' ? null : STORES[options.store];
  const build = (form: Form) => app(form, options, store).join('\n');
  return { esm: build('esm'), cjs: build('cjs'), ts: build('ts'), packages: ['express', 'express-session', ...(store ? [store.package] : [])] };
}

function app(form: Form, options: SandboxOptions, store: (typeof STORES)[keyof typeof STORES] | null): string[] {
  const imports =
    form === 'cjs'
      ? ["const express = require('express');", "const session = require('express-session');", ...(store?.cjs ?? [])]
      : [
          "import express from 'express';",
          form === 'ts' ? `import session, { type SessionOptions${store ? ', type Store' : ''} } from 'express-session';` : "import session from 'express-session';",
          ...(store?.esm ?? []),
        ];
  const secrets =
    options.secret.length === 1
      ? []
      : [
          '// Older secrets, comma-separated: they still verify cookies signed before a rotation.',
          "const oldSecrets = (process.env.OLD_SESSION_SECRETS ?? '').split(',').filter(Boolean);",
        ];
  const config = sessionOptions(options, (form === 'ts' ? store?.tsOption : store?.option) ?? null, form);
  return [
    ...imports,
    '',
    '// The secret signs the cookie (it is not encrypted): keep it out of the code, long and random.',
    'const secret = process.env.SESSION_SECRET;',
    "if (!secret) throw new Error('Set SESSION_SECRET to a long random string');",
    ...secrets,
    ...(store ? [store.setup] : []),
    '',
    'const app = express();',
    ...(options.proxy === true ? ["app.set('trust proxy', 1); // only behind one TLS-terminating proxy"] : []),
    ...(form === 'ts' ? ['const options: SessionOptions = {', ...config.map((line) => `  ${line}`), '};', 'app.use(session(options));'] : ['app.use(', '  session({', ...config.map((line) => `    ${line}`), '  }),', ');']),
    '',
    "app.get('/', (req, res) => {",
    '  req.session.visits = (req.session.visits ?? 0) + 1;',
    '  res.send(`visits: ${req.session.visits}`);',
    '});',
    'const port = Number(process.env.PORT ?? 3000);',
    'app.listen(port, () => console.log(`Listening on http://localhost:${port}`));',
    ...(form === 'ts' ? ['', "declare module 'express-session' {", '  interface SessionData {', '    visits?: number;', '  }', '}'] : []),
  ];
}

/** The option lines, in express-session's own order (its README), only those that differ from nothing. */
function sessionOptions(options: SandboxOptions, storeLine: string | null, form: Form): string[] {
  const { cookie } = options;
  const cookieLines = [
    cookie.maxAge === null ? '// no maxAge: a browser-session cookie, gone when the browser closes' : `maxAge: ${cookie.maxAge}, // milliseconds: ${describeMs(cookie.maxAge)}`,
    `secure: ${JSON.stringify(cookie.secure)},`,
    `httpOnly: ${cookie.httpOnly},`,
    ...(cookie.sameSite === false ? [] : [sameSiteLine(cookie.sameSite, form)]),
    ...(cookie.domain === null ? [] : [`domain: ${JSON.stringify(cookie.domain)},`]),
  ];
  return [
    `name: ${JSON.stringify(options.name)},`,
    options.secret.length === 1 ? 'secret,' : 'secret: [secret, ...oldSecrets], // the first signs, all verify',
    'cookie: {',
    ...cookieLines.map((line) => `  ${line}`),
    '},',
    `resave: ${options.resave},`,
    `saveUninitialized: ${options.saveUninitialized},`,
    ...(options.rolling ? ['rolling: true,'] : []),
    ...(options.unset === 'destroy' ? ["unset: 'destroy',"] : []),
    ...(options.proxy === null ? [] : [`proxy: ${options.proxy},`]),
    storeLine ?? '// no store: the MemoryStore, per process and lost on restart; not for production',
  ];
}

function sameSiteLine(sameSite: Exclude<SandboxOptions['cookie']['sameSite'], false>, form: Form): string {
  // express-session 1.19 resolves 'auto' (None over HTTPS, else Lax); its published types predate it.
  if (sameSite === 'auto' && form === 'ts') return "sameSite: 'auto' as unknown as 'lax', // 'auto' is newer than @types/express-session";
  return `sameSite: ${JSON.stringify(sameSite)},`;
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
