// npm run bench, the multi-instance run: the same class load through one instance and through two
// (each learner's connection kept to one instance, as a balancer with keep-alive upstreams does),
// for the SQLite default and for PostgreSQL + Redis, and the app's CPU per request on each. The
// load generator runs here, on the same two cores. PostgreSQL and Redis are throwaway servers from
// Debian's packages (test/support/servers.ts), started for this run.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { missingServer, startPostgres, startRedis } from '../test/support/servers.ts';
import { freePort } from '../test/support/process.ts';
import { cpuMs } from './process-cpu.ts';

const LEARNERS = 100;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Instance {
  url: string;
  child: ChildProcess;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The app instances' CPU time (all of them, all threads) per answered request, in µs. */
  cpu: number | null;
  /** PostgreSQL's and Redis's CPU time per answered request, in µs (SQLite's work is in the app's). */
  serversCpu: number | null;
}

interface Setup {
  label: string;
  env: Record<string, string>;
  store: 'database' | 'redis';
  /** The database and Redis servers' processes, whose CPU counts too. */
  serverPids: () => number[];
}

/** Runs the whole comparison and returns the lines to print. */
export async function measureMultiInstance(): Promise<string> {
  const missing = missingServer('postgres') || missingServer('redis');
  const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-bench-multi-'));
  const lines = [
    `Several instances: ${LEARNERS} learners (a sandbox and a stored session each), half writes and half visits, through one instance and through two; median of ${ROUNDS} runs of ${DURATION_S} s`,
    '',
    '| setup | instances | req/s | p50 ms | p99 ms | errors | app CPU µs/req | servers CPU µs/req | two vs one |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const servers = missing ? null : await Promise.all([startPostgres(), startRedis()]);
  try {
    const setups: Setup[] = [{ label: 'SQLite (one file)', env: { DATABASE_PATH: join(dir, 'multi.sqlite') }, store: 'database', serverPids: () => [] }];
    if (servers) {
      const [postgres, redis] = servers;
      setups.push({ label: 'PostgreSQL + Redis', env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, SITE_SESSION_STORE: 'redis' }, store: 'redis', serverPids: () => [...postgres.pids(), ...redis.pids()] });
    }
    const cpuOne: Record<string, number | null> = {};
    for (const setup of setups) {
      const instances = [await startInstance(setup.env), await startInstance(setup.env)];
      try {
        const learners = await Promise.all(Array.from({ length: LEARNERS }, () => newLearner(instances[0]!.url, setup.store)));
        const one: Result[] = [];
        const two: Result[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          // Taking turns keeps the machine's drift out of the ratio.
          const runOne = async () => one.push(await drive(instances.slice(0, 1), learners, setup.serverPids));
          const runTwo = async () => two.push(await drive(instances, learners, setup.serverPids));
          if (round % 2 === 0) await runOne().then(runTwo);
          else await runTwo().then(runOne);
        }
        const [m1, m2] = [median(one), median(two)];
        cpuOne[setup.label] = m1.cpu === null ? null : m1.cpu + (m1.serversCpu ?? 0);
        lines.push(row(setup.label, 1, m1, ''));
        lines.push(row(setup.label, 2, m2, `${(m2.rps / m1.rps).toFixed(2)}x req/s, ${(m2.p99 / Math.max(m1.p99, 1)).toFixed(2)}x p99`));
      } finally {
        await Promise.all(instances.map(stopInstance));
      }
    }
    lines.push('');
    const sqliteCpu = cpuOne['SQLite (one file)'];
    const serverCpu = cpuOne['PostgreSQL + Redis'];
    if (sqliteCpu && serverCpu) lines.push(`A sandbox request's CPU on PostgreSQL + Redis (the app's and the servers') against SQLite (one instance): ${(serverCpu / sqliteCpu).toFixed(2)}x (target at most 1.5x)`);
    if (missing) lines.push(`PostgreSQL + Redis not measured: ${missing}`);
    return lines.join('\n');
  } finally {
    if (servers) await Promise.all(servers.map((server) => server.remove()));
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Learner {
  path: string;
  cookie: string;
}

/** A sandbox on the store under test, and a session stored in it (one write). */
async function newLearner(url: string, store: Setup['store']): Promise<Learner> {
  const created = await fetch(`${url}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ store }) });
  const { id } = (await created.json()) as { id: string };
  const wrote = await fetch(`${url}/sandbox/${id}/write`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'key=start&value=1' });
  await wrote.arrayBuffer();
  const cookie = wrote.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error(`no cookie from sandbox ${id}: ${wrote.status}`);
  return { path: `/sandbox/${id}/`, cookie };
}

/**
 * The learners' load through the given instances: each learner's connection goes to one instance
 * (learner i to instance i mod n), every other request a write. A warm-up second first, then
 * DURATION_S measured; the instances' CPU is read from /proc around the measured part.
 */
async function drive(instances: Instance[], learners: Learner[], serverPids: () => number[]): Promise<Result> {
  const share = (i: number) => learners.filter((_, j) => j % instances.length === i);
  await Promise.all(instances.map((instance, i) => run(instance.url, share(i), 1)));
  const before = instances.map((instance) => cpuMs(instance.child.pid));
  const serversBefore = cpuByPid(serverPids());
  const results = await Promise.all(instances.map((instance, i) => run(instance.url, share(i), DURATION_S)));
  const after = instances.map((instance) => cpuMs(instance.child.pid));
  const serversAfter = cpuByPid(serverPids());
  const answered = results.reduce((sum, r) => sum + r.latencies.length, 0);
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const cpuUsed = before.every((v) => v !== null) && after.every((v) => v !== null) ? after.reduce((s, v, i) => s + v! - before[i]!, 0) : null;
  return {
    rps: answered / DURATION_S,
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    cpu: cpuUsed === null ? null : (cpuUsed * 1000) / answered,
    serversCpu: serversAfter.size === 0 ? null : (serversUsed(serversBefore, serversAfter) * 1000) / answered,
  };
}

function cpuByPid(pids: number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

/** CPU ms the servers' processes used between two readings (a process new since counts from zero). */
function serversUsed(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before.get(pid) ?? 0);
  return used;
}

function run(url: string, learners: Learner[], seconds: number): Promise<{ latencies: number[]; errors: number }> {
  let next = 0;
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: learners.length,
        duration: seconds,
        requests: [
          {
            setupRequest: (req: autocannon.Request, context: Record<string, unknown>) => {
              context.learner ??= learners[next++ % learners.length];
              const learner = context.learner as Learner;
              context.count = ((context.count as number) ?? 0) + 1;
              const write = (context.count as number) % 2 === 0;
              const headers = { accept: 'application/json', cookie: learner.cookie, ...(write ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
              return { ...req, method: write ? 'POST' : 'GET', path: `${learner.path}${write ? 'write' : 'visit'}`, headers, body: write ? `key=n&value=${String(context.count)}` : undefined };
            },
          },
        ],
      } as autocannon.Options,
      (err, result) => (err ? reject(err as Error) : resolve({ latencies, errors: result.errors + result.timeouts + result.non2xx })),
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', SESSION_SECRET: 'bench-secret-0123456789abcdef0123456789', SANDBOX_REQUESTS_PER_MINUTE: '1000000000', SANDBOXES_PER_MINUTE: '1000000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 30_000; waited += 50) {
    if (child.exitCode !== null) break;
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { url, child };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`an instance on ${JSON.stringify(env)} did not start`);
}

async function stopInstance({ child }: Instance): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function median(runs: Result[]): Result {
  const middle = (pick: (r: Result) => number) => runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  const maybe = (pick: (r: Result) => number | null) => (runs.some((r) => pick(r) === null) ? null : middle((r) => pick(r)!));
  return { rps: middle((r) => r.rps), p50: middle((r) => r.p50), p99: middle((r) => r.p99), errors: runs.reduce((s, r) => s + r.errors, 0), cpu: maybe((r) => r.cpu), serversCpu: maybe((r) => r.serversCpu) };
}

function row(label: string, instances: number, r: Result, ratio: string): string {
  const micros = (v: number | null) => (v === null ? '' : v.toFixed(0));
  return `| ${label} | ${instances} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${micros(r.cpu)} | ${micros(r.serversCpu)} | ${ratio} |`;
}

// Run alone: node --import tsx bench/multi-instance.ts (after npm run build).
if (import.meta.url === `file://${process.argv[1]}`) {
  measureMultiInstance().then(
    (out) => console.log(out),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
