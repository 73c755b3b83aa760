// npm run bench: measures Cookie Lab against a bare express-session app on this machine, in one
// run, and prints a table. See docs/performance.md for the targets and the last results.
// Long because it is the whole benchmark, one scenario after another, in the order it prints.
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureRateLimit } from './rate-limit.ts';
import { measureMultiInstance } from './multi-instance.ts';
import { cpuMs } from './process-cpu.ts';
import { measureClassroom } from './classroom.ts';

const CONNECTIONS = 100;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * Each figure is the median of this many runs, the lab's and the baseline's taking turns: this
 * shared machine's speed drifts by ±15% over minutes, and alternating cancels the drift out of
 * the ratios.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** How long the 100 connections may take to be accepted and answered once (see load()). */
const RAMP_LIMIT_S = 30;
const SESSIONS = 100;
/**
 * `npm run bench -- classroom` runs the classroom scenario alone; `--quick` shortens it (20 s of
 * students instead of 60) for development. Both keep 10 classes of 40.
 */
const ONLY_CLASSROOM = process.argv.includes('classroom');
/** `npm run bench -- multi-instance`: one instance against two, on SQLite and on PostgreSQL + Redis. */
const ONLY_MULTI_INSTANCE = process.argv.includes('multi-instance');
const QUICK = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-bench-'));
const children: ChildProcess[] = [];

interface Row {
  what: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The server's CPU time (all its threads) per answered request, in µs; null where /proc is missing. */
  cpu: number | null;
  baseline?: { rps: number; p99: number; cpu: number | null };
}

async function main() {
  console.log(`Cookie Lab benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log(`${CONNECTIONS} connections, ${SESSIONS} real sessions (each connection keeps one cookie); each figure the median of ${ROUNDS} runs of ${DURATION_S} s\n`);
  const rows: Row[] = [];

  // Measure what npm start runs: the build.
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  if (ONLY_CLASSROOM) return void console.log(await classroom());
  if (ONLY_MULTI_INSTANCE) return void console.log(await measureMultiInstance());
  const lab = await startProcess(['dist/main.js'], { PORT: '3301', DATABASE_PATH: join(dir, 'lab.sqlite'), SESSION_SECRET: 'bench-secret-0123456789abcdef0123456789', SANDBOX_REQUESTS_PER_MINUTE: '1000000000' }, 3301);
  for (const store of ['memory', 'database'] as const) {
    const baseline = await startProcess(['--import', 'tsx', 'bench/baseline-app.ts'], { PORT: '3302', STORE: store, DATABASE_PATH: join(dir, `baseline-${store}.sqlite`) }, 3302);
    // A class: every connection is one learner with a sandbox of their own and its cookie.
    const learners: Learner[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const id = await createSandbox(lab, store);
      learners.push({ base: `/sandbox/${id}/`, cookie: await startSession(`${lab}/sandbox/${id}/write`).catch((e: Error) => { throw new Error(`learner ${i}: ${e.message}`); }) });
    }
    const baselineSessions: Learner[] = [];
    for (let i = 0; i < SESSIONS; i++) baselineSessions.push({ base: '/', cookie: await startSession(`${baseline}/write`) });
    for (const action of ['visit', 'write'] as const) {
      const mine: Row[] = [];
      const theirs: Row[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const runLab = async () => mine.push(await load(lab, action, learners, { accept: 'application/json' }));
        const runBaseline = async () => theirs.push(await load(baseline, action, baselineSessions, {}));
        if (round % 2 === 0) await runLab().then(runBaseline);
        else await runBaseline().then(runLab);
      }
      const baselineMedian = median(theirs);
      rows.push({ ...median(mine), what: `sandbox ${action} (${store})`, baseline: { rps: baselineMedian.rps, p99: baselineMedian.p99, cpu: baselineMedian.cpu } });
    }
    await stop(baseline);
  }

  const lessonPath = await firstLessonPath(lab);
  // A class on the same lesson: each connection is one learner with a site session of their own.
  const readers: Learner[] = [];
  for (let i = 0; i < SESSIONS; i++) readers.push({ base: '', cookie: await siteSessionCookie(`${lab}${lessonPath}`) });
  // The lesson page's baseline sends the bytes of this very page, as a constant (see baseline-page-app.ts).
  const pageFile = join(dir, 'lesson-page.html');
  writeFileSync(pageFile, await (await fetch(`${lab}${lessonPath}`, { headers: { cookie: readers[0]!.cookie } })).text());
  const pageBaseline = await startProcess(['--import', 'tsx', 'bench/baseline-page-app.ts'], { PORT: '3303', PAGE_FILE: pageFile }, 3303);
  const pageReaders: Learner[] = [];
  for (let i = 0; i < SESSIONS; i++) pageReaders.push({ base: '', cookie: await siteSessionCookie(`${pageBaseline}/page`) });
  const pageSandbox = await createSandbox(lab, 'memory');
  const lessonPages: Row[] = [];
  const baselinePages: Row[] = [];
  const sandboxPages: Row[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const runLab = async () => lessonPages.push(await load(lab, 'page', readers, {}, lessonPath));
    const runBaseline = async () => baselinePages.push(await load(pageBaseline, 'page', pageReaders, {}, '/page'));
    if (round % 2 === 0) await runLab().then(runBaseline);
    else await runBaseline().then(runLab);
    sandboxPages.push(await load(lab, 'page', [{ base: '', cookie: '' }], {}, `/sandbox/${pageSandbox}`));
  }
  await stop(pageBaseline);
  const baselinePage = median(baselinePages);
  rows.push({ ...median(lessonPages), what: `lesson page ${lessonPath}`, baseline: { rps: baselinePage.rps, p99: baselinePage.p99, cpu: baselinePage.cpu } });
  rows.push({ ...median(sandboxPages), what: 'sandbox page' });
  const pageLoad = await runToEnd(['--import', 'tsx', 'bench/page-load.ts', `${lab}${lessonPath}`], {});
  await stop(lab);

  printTable(rows);
  console.log("The lesson page's baseline: the same page's bytes as a constant, from Express and an express-session configured like the lab's own (bench/baseline-page-app.ts).\n");
  console.log(pageLoad.trim(), '\n');
  await measureIdleSandboxes();
  await measureStartup();
  console.log(`\n${await measureRateLimit()}`);
  console.log(`\n${await measureMultiInstance()}`);
  console.log(`\n${await classroom()}`);
}

function classroom(): Promise<string> {
  return measureClassroom(
    { dir, startProcess: (args, env, port) => startProcess(args, env, port), stop, cpuOf: (url) => cpuMs(urls.get(url)?.pid) },
    { classes: 10, students: 40, seconds: QUICK ? 20 : 60, processes: Number(process.env.BENCH_CLASSROOM_PROCESSES ?? 2), pollMs: 1000 },
  );
}

interface Learner {
  /** Path prefix of the learner's endpoints (their sandbox, or the baseline's root). */
  base: string;
  cookie: string;
}

/** Writes once so that every later request carries a real, stored session. */
async function startSession(writeUrl: string): Promise<string> {
  const res = await fetch(writeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'key=start&value=1' });
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  const body = await res.text();
  if (!cookie) throw new Error(`no cookie from ${writeUrl}: ${res.status} ${body}`);
  return cookie;
}

/**
 * Drives the server with one connection per learner and reports the steady state. Node accepts one
 * new connection per event-loop turn (libuv 1.45+), so under load the 100 connections autocannon
 * opens in the same instant are accepted over a few seconds; each connection's first answer waits
 * for that (seconds for a heavy page). Latency leaves out each connection's first answer, and the
 * run lasts DURATION_S from the moment every connection has had one, for the lab and the baseline
 * alike. Errors and non-2xx answers count over the whole run, ramp included.
 */
async function load(origin: string, action: 'visit' | 'write' | 'page', learners: Learner[], headers: Record<string, string>, pagePath = ''): Promise<Row> {
  let next = 0;
  let finish!: (result: autocannon.Result) => void;
  let fail!: (err: Error) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const run = autocannon({
    url: origin,
    connections: CONNECTIONS,
    // Stopped by hand once the steady state has lasted DURATION_S; this only bounds a ramp that never ends.
    duration: RAMP_LIMIT_S + DURATION_S,
    requests: [
      {
        method: action === 'write' ? 'POST' : 'GET',
        // Each connection is one learner: it picks a session once and keeps its cookie.
        setupRequest: (req: autocannon.Request, context: Record<string, unknown>) => {
          context.learner ??= learners[next++ % learners.length];
          const learner = context.learner as Learner;
          context.count = ((context.count as number) ?? 0) + 1;
          const h: Record<string, string> = { ...headers, ...(learner.cookie ? { cookie: learner.cookie } : {}) };
          const path = action === 'page' ? pagePath : `${learner.base}${action}`;
          if (action === 'write') {
            h['content-type'] = 'application/x-www-form-urlencoded';
            return { ...req, path, headers: h, body: `key=n&value=${String(context.count)}` };
          }
          return { ...req, path, headers: h };
        },
      },
    ],
  } as autocannon.Options, (err, result) => (err ? fail(err as Error) : finish(result)));
  const answered = new Set<unknown>();
  const serverPid = urls.get(origin)?.pid;
  let cpuAtStart: number | null = null;
  let cpuAtStop: number | null = null;
  let steadySince = 0;
  let stoppedAt = 0;
  const latencies: number[] = [];
  run.on('response', (client, _status, _bytes, ms) => {
    if (stoppedAt) return;
    if (!answered.has(client)) {
      answered.add(client);
      if (answered.size === CONNECTIONS) {
        steadySince = performance.now();
        cpuAtStart = cpuMs(serverPid);
      }
      return;
    }
    if (!steadySince) return;
    latencies.push(ms);
    if (performance.now() - steadySince >= DURATION_S * 1000) {
      stoppedAt = performance.now();
      cpuAtStop = cpuMs(serverPid);
      run.stop();
    }
  });
  const result = await finished;
  if (!stoppedAt) throw new Error(`${origin}: not every connection was answered within ${RAMP_LIMIT_S} s`);
  const seconds = (stoppedAt - steadySince) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!);
  const cpu = cpuAtStart === null || cpuAtStop === null ? null : ((cpuAtStop - cpuAtStart) * 1000) / latencies.length;
  return { what: '', rps: latencies.length / seconds, p50: percentile(0.5), p99: percentile(0.99), errors: result.errors + result.timeouts, non2xx: result.non2xx, cpu };
}

/** Each figure's median over the runs (errors and non-2xx answers are added up instead). */
function median(runs: Row[]): Row {
  const middle = (pick: (row: Row) => number) => runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return {
    what: '',
    rps: middle((r) => r.rps),
    cpu: runs.some((r) => r.cpu === null) ? null : middle((r) => r.cpu!),
    p50: middle((r) => r.p50),
    p99: middle((r) => r.p99),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  };
}

function printTable(rows: Row[]) {
  const header = ['what', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'CPU µs/req', 'baseline req/s', 'baseline p99', 'baseline CPU µs/req', 'throughput ratio', 'p99 ratio'];
  const micros = (cpu: number | null | undefined) => (cpu == null ? '' : cpu.toFixed(0));
  const lines = rows.map((r) => [
    r.what,
    r.rps.toFixed(0),
    String(r.p50),
    String(r.p99),
    String(r.errors),
    String(r.non2xx),
    micros(r.cpu),
    r.baseline ? r.baseline.rps.toFixed(0) : '',
    r.baseline ? String(r.baseline.p99) : '',
    micros(r.baseline?.cpu),
    r.baseline ? `${(r.rps / r.baseline.rps).toFixed(2)}x` : '',
    r.baseline ? `${(r.p99 / Math.max(r.baseline.p99, 1)).toFixed(2)}x` : '',
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  console.log('');
}

async function measureIdleSandboxes() {
  const out = await runToEnd(['--expose-gc', '--import', 'tsx', 'bench/idle-sandboxes.ts'], { DATABASE_PATH: join(dir, 'idle.sqlite') });
  console.log(out.trim(), '\n');
}

async function measureStartup() {
  const env = { PORT: '3303', DATABASE_PATH: join(dir, 'idle.sqlite'), SESSION_SECRET: 'bench-secret-0123456789abcdef0123456789' };
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const url = await startProcess(['dist/main.js'], env, 3303, 5);
    times.push(performance.now() - started);
    await stop(url);
  }
  console.log(`start-up to the first answered /healthz, existing database: ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} (median ${times.sort((a, b) => a - b)[1]!.toFixed(0)} ms)`);
}

async function createSandbox(base: string, store: 'memory' | 'database'): Promise<string> {
  const res = await fetch(`${base}/api/sandboxes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ store }) });
  return ((await res.json()) as { id: string }).id;
}

async function firstLessonPath(base: string): Promise<string> {
  const html = await (await fetch(`${base}/lessons`)).text();
  const match = /href="(\/lessons\/[a-z0-9-]+)"/.exec(html);
  if (!match) throw new Error('no lesson listed');
  return match[1]!;
}

async function siteSessionCookie(url: string): Promise<string> {
  const res = await fetch(url);
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error(`no site session from ${url}: ${res.status}`);
  return cookie;
}

const urls = new Map<string, ChildProcess>();

async function startProcess(args: string[], env: Record<string, string>, port: number, pollMs = 50): Promise<string> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  // A server that dies mid-run says how (its own stderr is passed through above).
  child.once('exit', (code, signal) => {
    if (urls.get(`http://127.0.0.1:${port}`) === child) console.error(`${args.join(' ')} on port ${port} exited mid-run (${signal ?? `code ${code}`})`);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 30_000; waited += pollMs) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) {
        urls.set(url, child);
        return url;
      }
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
  throw new Error(`${args.join(' ')} did not start`);
}

async function stop(url: string): Promise<void> {
  const child = urls.get(url);
  if (!child) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Forgotten first: this exit is expected (see startProcess).
  urls.delete(url);
  child.kill('SIGTERM');
  await exited;
}

function runToEnd(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
