// The TypeScript a learner would write for the sandbox's current options, secret from the environment.
import type { SandboxOptions } from './options.ts';

export function sessionCode(options: SandboxOptions): string {
  const { cookie } = options;
  const secret =
    options.secret.length === 1
      ? 'process.env.SESSION_SECRET!'
      : `[${options.secret.map((_, i) => (i === 0 ? 'process.env.SESSION_SECRET!' : `process.env.SESSION_SECRET_OLD_${i}!`)).join(', ')}] // first signs, all verify`;
  const cookieLines = [
    cookie.maxAge === null ? '// no maxAge: a browser-session cookie' : `maxAge: ${cookie.maxAge}, // ${describeMs(cookie.maxAge)}`,
    `secure: ${JSON.stringify(cookie.secure)},`,
    `httpOnly: ${cookie.httpOnly},`,
    ...(cookie.sameSite === false ? [] : [`sameSite: ${JSON.stringify(cookie.sameSite)},`]),
    ...(cookie.domain === null ? [] : [`domain: ${JSON.stringify(cookie.domain)},`]),
  ];
  const lines = [
    "import session from 'express-session';",
    ...(options.store === 'sqlite' ? ["// SqliteSessionStore: an express-session Store over SQLite (see server/stores/sqlite-session-store.ts)"] : []),
    '',
    ...(options.proxy === null ? [] : options.proxy ? ["app.set('trust proxy', 1); // only behind a TLS-terminating proxy"] : []),
    'app.use(session({',
    `  name: ${JSON.stringify(options.name)},`,
    `  secret: ${secret},`,
    '  cookie: {',
    ...cookieLines.map((line) => `    ${line}`),
    '  },',
    `  resave: ${options.resave},`,
    `  saveUninitialized: ${options.saveUninitialized},`,
    ...(options.rolling ? ['  rolling: true,'] : []),
    ...(options.unset === 'destroy' ? ["  unset: 'destroy',"] : []),
    ...(options.proxy === null ? [] : [`  proxy: ${options.proxy},`]),
    options.store === 'sqlite' ? '  store: new SqliteSessionStore(db),' : '  // no store: MemoryStore, per process and lost on restart; not for production',
    '}));',
  ];
  return lines.join('\n');
}

function describeMs(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, unit] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}
