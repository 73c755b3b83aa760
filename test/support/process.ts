// The real server as a child process (`node --import tsx server/main.ts`), as it runs in
// production: started with an environment, stopped with signals, watched through stdout/stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './watch.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  /** Set once the server said it is listening. */
  baseUrl: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /**
   * Resolves once stdout or stderr has printed a line matching `pattern` (already printed counts);
   * rejects if the process exits first. With `hooks`, test/support/child-hooks.ts prints lines to
   * wait for: `request GET /path` and `listener closed`.
   */
  waitForOutput(pattern: RegExp): Promise<string>;
  /** Sends the signal and waits for the exit (kills it if it takes longer than `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit & { ms: number }>;
}

/** The environment the child gets: ours without anything that would change what is tested. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['NODE_TEST_CONTEXT', 'NODE_ENV', 'PORT', 'HOST', 'DATABASE_PATH', 'SESSION_SECRET', 'TRUST_PROXY', 'SANDBOXES_PER_MINUTE', 'SANDBOX_REQUESTS_PER_MINUTE', 'NODE_OPTIONS', 'DATABASE_URL', 'DATABASE_SCHEMA', 'REDIS_URL', 'REDIS_PREFIX', 'SITE_SESSION_STORE', 'INSTANCE_NAME', 'OTHER_SITE_HOST']) delete base[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

/** How test/support/child-hooks.ts starts its lines (the same text is written there). */
const HOOK_PREFIX = 'cookie-lab-test-hook:';

/** A line child-hooks.ts prints: `request GET /path…` or `listener closed`. */
export function hookLine(what: RegExp): RegExp {
  return new RegExp(`^${HOOK_PREFIX} ${what.source}`);
}

export interface LaunchOptions {
  /** Load test/support/child-hooks.ts into the child, so waitForOutput can see requests arrive and the listener close. */
  hooks?: boolean;
}

export function launch(env: Record<string, string | undefined>, { hooks = false }: LaunchOptions = {}): { child: ChildProcess; stdout(): string; stderr(): string; exited: Promise<Exit> } {
  const preload = hooks ? ['--import', pathToFileURL(join(repoRoot, 'test', 'support', 'child-hooks.ts')).href] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, 'server/main.ts'], { cwd: repoRoot, env: childEnv({ HOST: '127.0.0.1', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Starts the server and resolves once it listens (rejects with its output if it exits first). */
export async function startServer(env: Record<string, string | undefined>, options: LaunchOptions = {}, timeoutMs = 30_000): Promise<ServerProcess> {
  const { child, stdout, stderr, exited } = launch({ PORT: '0', ...env }, options);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start in ${timeoutMs} ms:\n${stdout()}\n${stderr()}`));
    }, timeoutMs);
    const check = () => {
      const match = /listening on http:\/\/localhost:(\d+)/.exec(stdout());
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${exit.code ?? exit.signal}) before listening:\n${stdout()}\n${stderr()}`));
    });
  });
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    stdout,
    stderr,
    exited,
    waitForOutput: (pattern) =>
      new Promise<string>((resolve, reject) => {
        const lines = () => `${stdout()}\n${stderr()}`.split('\n');
        const check = () => {
          const line = lines().find((l) => pattern.test(l));
          if (line === undefined) return false;
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          resolve(line);
          return true;
        };
        if (check()) return;
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        void exited.then((exit) => reject(new Error(`the server exited (${exit.code ?? exit.signal}) before printing ${pattern}:\n${stdout()}\n${stderr()}`)));
      }),
    stop: async (signal = 'SIGTERM', timeoutMs = 15_000) => {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return { ...exit, ms: Date.now() - started };
    },
  };
}

/** Runs the server expecting it to give up: resolves with how it exited and what it said. */
export async function runUntilExit(env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<Exit & { stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const { child, stdout, stderr, exited } = launch(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, stdout: stdout(), stderr: stderr(), ms: Date.now() - started };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
