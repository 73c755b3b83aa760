// The code panel's app runs as given: every form (ES modules, CommonJS, TypeScript) passes
// node --check or tsc for a matrix of option sets, and the forms with no package beyond Express and
// express-session really start and send the cookie the options describe.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sessionCode } from '../server/sandbox/session-code.ts';
import { articleOptions, validateOptions, type SandboxOptions } from '../server/sandbox/options.ts';
import type { Engine } from '../server/db/dialect.ts';
import { freePort } from './support/process.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
// Inside the project, so the written apps resolve express and express-session from its node_modules.
const dir = join(root, 'test-results', `session-code-${process.pid}`);

/** Every value of every option at least once, beside the article's own; the database store on each engine. */
const cases: { change: object; engine?: Engine }[] = [
  { change: {} },
  { change: { store: 'database' } },
  { change: { store: 'database' }, engine: 'postgres' },
  { change: { store: 'redis' } },
  { change: { store: 'redis', secret: ['new-secret-0123456789', 'old-secret-0123456789'], proxy: true } },
  { change: { secret: ['new-secret-0123456789', 'old-secret-0123456789'] } },
  { change: { cookie: { maxAge: 60_000, secure: true, httpOnly: true, sameSite: 'strict' } } },
  { change: { cookie: { maxAge: 90_061_001, secure: 'auto', httpOnly: false, sameSite: 'none', domain: 'example.test' } } },
  { change: { cookie: { sameSite: true } } },
  { change: { cookie: { sameSite: 'lax' } } },
  { change: { cookie: { sameSite: 'auto' } } },
  { change: { rolling: true, unset: 'destroy', proxy: true, resave: true, saveUninitialized: true, store: 'database' } },
  { change: { proxy: false, name: '__Host-sid' } },
  { change: { corsOrigin: 'echo', corsCredentials: true, cookie: { sameSite: 'none', secure: true }, proxy: true } },
  { change: { corsOrigin: '*', corsCredentials: true } },
  { change: { corsOrigin: '*' } },
];
const matrix: { options: SandboxOptions; engine: Engine }[] = cases.map(({ change, engine = 'sqlite' }) => ({ options: validateOptions(change, articleOptions), engine }));

before(() => mkdirSync(dir, { recursive: true }));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the code panel', () => {
  it('JavaScript forms pass node --check for every option set', async () => {
    for (const [i, { options, engine }] of matrix.entries()) {
      const code = sessionCode(options, engine);
      writeFileSync(join(dir, `app-${i}.mjs`), code.esm);
      writeFileSync(join(dir, `app-${i}.cjs`), code.cjs);
      for (const file of [`app-${i}.mjs`, `app-${i}.cjs`]) {
        await run(process.execPath, ['--check', join(dir, file)]).catch((err: { stderr: string }) => assert.fail(`${file} for ${JSON.stringify(options)}:\n${err.stderr}`));
      }
    }
  });

  it('TypeScript forms type-check against the real express-session and store types, with no error', async () => {
    const tsDir = join(dir, 'ts');
    mkdirSync(tsDir, { recursive: true });
    for (const [i, { options, engine }] of matrix.entries()) writeFileSync(join(tsDir, `app-${i}.ts`), `${sessionCode(options, engine).ts}\nexport {};\n`);
    // The TypeScript form is an ES module (connect-redis is one, and it awaits the connection at top level).
    writeFileSync(join(tsDir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(tsDir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: ['node'] }, include: ['*.ts'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', tsDir]).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    assert.equal(result, '', 'tsc errors in the generated TypeScript');
  });

  it('a wrong option value in the TypeScript form is an error tsc reports (the check can fail)', async () => {
    const badDir = join(dir, 'bad');
    mkdirSync(badDir, { recursive: true });
    writeFileSync(join(badDir, 'app.ts'), `${sessionCode(matrix[0]!.options).ts.replace('resave: false', "resave: 'no'")}\nexport {};\n`);
    writeFileSync(join(badDir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['*.ts'] }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const failed = await run(process.execPath, [tsc, '-p', badDir]).then(
      () => false,
      () => true,
    );
    assert.ok(failed, 'tsc accepted resave: "no"');
  });

  for (const form of ['esm', 'cjs'] as const) {
    it(`the ${form === 'esm' ? 'ES module' : 'CommonJS'} app with the memory store starts and sends the cookie its options describe`, async () => {
      const options = validateOptions({ name: 'take.sid', saveUninitialized: false, cookie: { maxAge: 60_000, httpOnly: true, sameSite: 'lax' } }, articleOptions);
      const file = join(dir, `running.${form === 'esm' ? 'mjs' : 'cjs'}`);
      writeFileSync(file, sessionCode(options)[form]);
      const port = await freePort();
      const child = spawn(process.execPath, [file], { env: { ...process.env, PORT: String(port), SESSION_SECRET: 'a-long-random-secret-for-this-test' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        await listening(child, () => stderr);
        const first = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(await first.text(), 'visits: 1');
        const [setCookie] = first.headers.getSetCookie();
        assert.match(setCookie ?? '', /^take\.sid=s%3A[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
        const second = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie: setCookie!.split(';')[0]! } });
        assert.equal(await second.text(), 'visits: 2', 'the session survives between requests');
      } finally {
        child.kill();
      }
    });
  }

  it('refuses to start without SESSION_SECRET, saying what to set', async () => {
    const file = join(dir, 'no-secret.mjs');
    writeFileSync(file, sessionCode(articleOptions).esm);
    const env = { ...process.env };
    delete env.SESSION_SECRET;
    const result = await run(process.execPath, [file], { env }).then(
      () => '',
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(result, /Set SESSION_SECRET to a long random string/);
  });
});

/** Resolves once the app prints that it listens; rejects if it exits first. */
function listening(child: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening: ${stderr()}`)));
  });
}
