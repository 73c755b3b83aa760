// Real PostgreSQL and Redis servers for the tests that need them, from Debian's packages (never an
// emulator): each started on a free port in a folder of its own, so parallel test files never
// share state, and stoppable and startable again mid-test (the fault tests). Where the packages
// are not installed the tests that need them are skipped with the reason, unless
// LAB_REQUIRE_SERVERS=1 (CI sets it), which turns the skip into a failure.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { freePort } from './process.ts';

const run = promisify(execFile);

/** The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/N/bin), or null. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path)) ?? null;

/** Why a server cannot be started here, or null when it can. Use as a test's `skip`. */
export function missingServer(kind: 'postgres' | 'redis'): string | false {
  const missing = kind === 'postgres' ? !postgresBin() : !redisBin;
  if (!missing) return false;
  const reason = kind === 'postgres' ? 'PostgreSQL is not installed (apt-get install postgresql)' : 'Redis is not installed (apt-get install redis-server)';
  if (process.env.LAB_REQUIRE_SERVERS === '1') throw new Error(`LAB_REQUIRE_SERVERS=1, but ${reason}`);
  return reason;
}

/** PostgreSQL refuses to run as root: as root, its programs run as the postgres user. */
function asPostgres(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args);
}

export interface PostgresServer {
  /** A URL for the "postgres" database as the superuser "lab". */
  url: string;
  port: number;
  /** Stops the server at once, as a crash would (no clean shut-down). */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
  /** The server's processes now (the postmaster and its backends), for the benchmark's CPU figures. */
  pids(): number[];
}

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command name: state, then the parent's pid.
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * A PostgreSQL server on a free port. `durable`: a commit is on disk before it is acknowledged
 * (the defaults), so a crash keeps every acknowledged write; otherwise commits are flushed lazily
 * (quick, and enough for tests that never crash it).
 */
export async function startPostgres({ durable = false } = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  // trust on loopback: a throwaway server that only this test reaches.
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'lab', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  // fsync off: nothing here needs to survive a power cut (a killed server keeps what it wrote to
  // the OS). synchronous_commit off would lose acknowledged commits on a kill: only when not durable.
  const lazy = durable ? '' : ' -c synchronous_commit=off';
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off${lazy}`;
  const start = async () => void (await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-w', '-l', join(dir, 'log'), 'start']));
  await start();
  return {
    url: `postgres://lab@127.0.0.1:${port}/postgres`,
    port,
    kill: async () => void (await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])),
    start,
    remove: async () => {
      await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    pids: () => {
      const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return [postmaster, ...childrenOf(postmaster)];
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  /** Ends the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty, unless it was started durable). */
  start(): Promise<void>;
  remove(): Promise<void>;
  pids(): number[];
}

/**
 * A Redis server on a free port. `durable`: every write is in its append-only file before Redis
 * acknowledges it (appendfsync always), so a kill and a start keep every acknowledged write, as a
 * production Redis that holds sessions must be set up; otherwise it keeps nothing on disk.
 */
export async function startRedis({ durable = false } = {}): Promise<RedisServer> {
  if (!redisBin) throw new Error('Redis is not installed');
  const port = await freePort();
  const dir = durable ? mkdtempSync(join(tmpdir(), 'cookie-lab-redis-')) : null;
  const persistence = dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''] : ['--save', '', '--appendonly', 'no'];
  let child: ChildProcess | null = null;
  const start = async () => {
    const started = spawn(redisBin, ['--port', String(port), '--bind', '127.0.0.1', ...persistence], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = started;
    // Ready when it says so (its log goes to stdout), not after a guessed while.
    let log = '';
    started.stdout!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      started.stdout!.on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
    });
    started.stdout!.resume();
  };
  const kill = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  const remove = async () => {
    await kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}`, port, kill, start, remove, pids: () => (child?.pid ? [child.pid] : []) };
}
