// npm run bench: measures Cookie Lab against a bare express-session app on this machine, in one
// run, and prints a table. See docs/performance.md for the targets and the last results.
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CONNECTIONS = 100;
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 8);
const SESSIONS = 100;
const dir = mkdtempSync(join(tmpdir(), 'cookie-lab-bench-'));
const children: ChildProcess[] = [];

interface Row {
  what: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  baseline?: { rps: number; p99: number };
}

async function main() {
  console.log(`Cookie Lab benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log(`${CONNECTIONS} connections, ${DURATION_S} s per run, ${SESSIONS} real sessions (each connection keeps one cookie)\n`);
  const rows: Row[] = [];

  // Measure what npm start runs: the build.
  execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  const lab = await startProcess(['dist/main.js'], { PORT: '3301', DATABASE_PATH: join(dir, 'lab.sqlite'), SESSION_SECRET: 'bench-secret-0123456789abcdef0123456789', SANDBOX_REQUESTS_PER_MINUTE: '1000000000' }, 3301);
  for (const store of ['memory', 'sqlite'] as const) {
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
      const mine = await load(lab, action, learners, { accept: 'application/json' });
      const theirs = await load(baseline, action, baselineSessions, {});
      rows.push({ ...mine, what: `sandbox ${action} (${store})`, baseline: { rps: theirs.rps, p99: theirs.p99 } });
    }
    await stop(baseline);
  }

  const lessonPath = await firstLessonPath(lab);
  const siteCookie = await siteSessionCookie(`${lab}${lessonPath}`);
  rows.push({ ...(await load(lab, 'page', [{ base: '', cookie: siteCookie }], {}, lessonPath)), what: `lesson page ${lessonPath}` });
  const pageSandbox = await createSandbox(lab, 'memory');
  rows.push({ ...(await load(lab, 'page', [{ base: '', cookie: '' }], {}, `/sandbox/${pageSandbox}`)), what: 'sandbox page' });
  const pageLoad = await runToEnd(['--import', 'tsx', 'bench/page-load.ts', `${lab}${lessonPath}`], {});
  await stop(lab);

  printTable(rows);
  console.log(pageLoad.trim(), '\n');
  await measureIdleSandboxes();
  await measureStartup();
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

async function load(origin: string, action: 'visit' | 'write' | 'page', learners: Learner[], headers: Record<string, string>, pagePath = ''): Promise<Row> {
  let next = 0;
  const result = await autocannon({
    url: origin,
    connections: CONNECTIONS,
    duration: DURATION_S,
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
  } as autocannon.Options);
  return { what: '', rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

function printTable(rows: Row[]) {
  const header = ['what', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'baseline req/s', 'baseline p99', 'throughput ratio', 'p99 ratio'];
  const lines = rows.map((r) => [
    r.what,
    r.rps.toFixed(0),
    String(r.p50),
    String(r.p99),
    String(r.errors),
    String(r.non2xx),
    r.baseline ? r.baseline.rps.toFixed(0) : '',
    r.baseline ? String(r.baseline.p99) : '',
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

async function createSandbox(base: string, store: 'memory' | 'sqlite'): Promise<string> {
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
  return res.headers.getSetCookie()[0]?.split(';')[0] ?? '';
}

const urls = new Map<string, ChildProcess>();

async function startProcess(args: string[], env: Record<string, string>, port: number, pollMs = 50): Promise<string> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
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
  child.kill('SIGTERM');
  await exited;
  urls.delete(url);
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
