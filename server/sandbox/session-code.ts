// The code a learner takes home: a small Express app with the sandbox's session options, in the
// three forms people write (ES modules, CommonJS, TypeScript). Each runs as given once its packages
// are installed (`test/session-code.test.ts` checks every form with node --check and tsc).
import type { SandboxOptions } from './options.ts';
import type { Engine } from '../db/dialect.ts';

export interface SessionCode {
  esm: string;
  cjs: string;
  ts: string;
  /** The npm packages the code needs. */
  packages: string[];
}

type Form = keyof Omit<SessionCode, 'packages'>;

interface StoreCode {
  packages: string[];
  esm: string[];
  cjs: string[];
  /** CommonJS cannot require() an ES-module-only package: it is imported inside an async start-up instead. */
  cjsAwaits?: string;
  setup: string[];
  option: string;
  tsOption?: string;
}

/** A published store for each of the lab's stores (the database one as the lab's engine), with how each form brings it in. */
const STORES: Record<'sqlite' | 'postgres' | 'redis', StoreCode> = {
  sqlite: {
    packages: ['connect-sqlite3'],
    esm: ["import connectSqlite3 from 'connect-sqlite3';"],
    cjs: ["const connectSqlite3 = require('connect-sqlite3');"],
    setup: ['const SQLiteStore = connectSqlite3(session);'],
    option: "store: new SQLiteStore({ db: 'sessions.sqlite', dir: '.' }), // sessions survive a restart",
    // @types/connect-sqlite3 declares a Store of its own that today's @types/express-session rejects.
    tsOption: "store: new SQLiteStore({ db: 'sessions.sqlite', dir: '.' }) as unknown as Store, // its types predate express-session's",
  },
  postgres: {
    packages: ['connect-pg-simple'],
    esm: ["import connectPgSimple from 'connect-pg-simple';"],
    cjs: ["const connectPgSimple = require('connect-pg-simple');"],
    setup: ['// Create its "session" table first, as a migration (node_modules/connect-pg-simple/table.sql).', 'const PgStore = connectPgSimple(session);'],
    option: 'store: new PgStore({ conString: process.env.DATABASE_URL }), // survives a restart, shared by every instance',
  },
  redis: {
    packages: ['connect-redis', 'redis'],
    esm: ["import { RedisStore } from 'connect-redis';", "import { createClient } from 'redis';"],
    cjs: ["const { createClient } = require('redis');"],
    cjsAwaits: "const { RedisStore } = await import('connect-redis'); // an ES module only",
    setup: [
      'const redisClient = createClient({ url: process.env.REDIS_URL });',
      '// Without an error listener, a lost connection would end the process; node-redis reconnects by itself.',
      "redisClient.on('error', (err) => console.error('Redis:', err.message));",
      'await redisClient.connect();',
    ],
    option: "store: new RedisStore({ client: redisClient, prefix: 'myapp:' }), // shared by every instance; each key expires with its cookie",
  },
};

export function sessionCode(options: SandboxOptions, engine: Engine = 'sqlite'): SessionCode {
  const store = options.store === 'memory' ? null : STORES[options.store === 'database' ? engine : 'redis'];
  const build = (form: Form) => app(form, options, store).join('\n');
  return { esm: build('esm'), cjs: build('cjs'), ts: build('ts'), packages: ['express', 'express-session', ...(store?.packages ?? [])] };
}

function app(form: Form, options: SandboxOptions, store: StoreCode | null): string[] {
  const imports =
    form === 'cjs'
      ? ["const express = require('express');", "const session = require('express-session');", ...(store?.cjs ?? [])]
      : [
          "import express from 'express';",
          form === 'ts' ? `import session, { type SessionOptions${store?.tsOption ? ', type Store' : ''} } from 'express-session';` : "import session from 'express-session';",
          ...(store?.esm ?? []),
        ];
  const secrets =
    options.secret.length === 1
      ? []
      : [
          '// Older secrets, comma-separated: they still verify cookies signed before a rotation.',
          "const oldSecrets = (process.env.OLD_SESSION_SECRETS ?? '').split(',').filter(Boolean);",
        ];
  const config = sessionOptions(options, (form === 'ts' ? (store?.tsOption ?? store?.option) : store?.option) ?? null, form);
  // CommonJS has no top-level await: the app starts inside an async function when the store needs one.
  const wrapped = form === 'cjs' && store?.setup.some((line) => line.startsWith('await ')) === true;
  const body = [
    ...(wrapped && store?.cjsAwaits ? [store.cjsAwaits] : []),
    '// The secret signs the cookie (it is not encrypted): keep it out of the code, long and random.',
    'const secret = process.env.SESSION_SECRET;',
    "if (!secret) throw new Error('Set SESSION_SECRET to a long random string');",
    ...secrets,
    ...(store?.setup ?? []),
    '',
    'const app = express();',
    ...(options.proxy === true ? ["app.set('trust proxy', 1); // only behind one TLS-terminating proxy"] : []),
    ...corsLines(options),
    ...(form === 'ts' ? ['const options: SessionOptions = {', ...config.map((line) => `  ${line}`), '};', 'app.use(session(options));'] : ['app.use(', '  session({', ...config.map((line) => `    ${line}`), '  }),', ');']),
    '',
    "app.get('/', (req, res) => {",
    '  req.session.visits = (req.session.visits ?? 0) + 1;',
    '  res.send(`visits: ${req.session.visits}`);',
    '});',
    'const port = Number(process.env.PORT ?? 3000);',
    'app.listen(port, () => console.log(`Listening on http://localhost:${port}`));',
  ];
  return [
    ...imports,
    '',
    ...(wrapped ? ['async function start() {', ...body.map((line) => (line ? `  ${line}` : line)), '}', 'start().catch((err) => {', '  console.error(err);', '  process.exit(1);', '});'] : body),
    ...(form === 'ts' ? ['', "declare module 'express-session' {", '  interface SessionData {', '    visits?: number;', '  }', '}'] : []),
  ];
}

/**
 * The sandbox's CORS options as a few lines of Express (no package needed): the lab answers them
 * on the second site's fetches only, an app on every route. None when they are off.
 */
function corsLines(options: SandboxOptions): string[] {
  if (options.corsOrigin === 'off') return [];
  const credentials = options.corsCredentials
    ? [
        options.corsOrigin === '*'
          ? "  res.set('Access-Control-Allow-Credentials', 'true'); // but browsers refuse '*' on a credentialed answer"
          : "  res.set('Access-Control-Allow-Credentials', 'true'); // lets that page read answers to credentials: 'include'",
      ]
    : [];
  const origin =
    options.corsOrigin === '*'
      ? ["  res.set('Access-Control-Allow-Origin', '*');"]
      : [
          "  const origin = req.get('Origin');",
          '  // Any origin that asks (the cors package\'s origin: true): in production, compare it with your front end\'s.',
          "  if (origin) res.set('Access-Control-Allow-Origin', origin);",
          "  res.vary('Origin');",
        ];
  return ['// CORS, for a front end on another origin: who may read the answers (it never sends a cookie).', 'app.use((req, res, next) => {', ...origin, ...credentials, '  next();', '});'];
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
