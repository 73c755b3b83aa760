// The classroom scenario of `npm run bench`: 10 classes of 40 students, each student at a learner's
// pace (a sandbox request, then the lesson's task check, then a few seconds of reading), every
// class's dashboard polled every second as the teacher's browser does (with HX-PTag), on two app
// processes sharing one SQLite file (each student kept on one, as a sticky proxy would; each
// dashboard on the other half's process, so a solve must cross processes to show). Then the same
// students at the same pace against the bare express-session app, for the ratios; and the cost of
// one dashboard refresh against the cost of one bare express-session request; and what
// server-sent events' own parts would cost instead (sse-cost.ts).
// Knobs for development: BENCH_CLASSROOM_PROCESSES (default 2), BENCH_NO_DASHBOARDS=1 (the same
// students without any dashboard), BENCH_DEBUG=1 (sandbox steps and checks apart).
// Long because it is a whole scenario: setup, the students, the pollers, the baseline, the costs.
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { openDatabase } from '../server/db/database.ts';
import { ClassStore } from '../server/classroom/class-store.ts';
import { Dashboard, TIME_STEP_MS } from '../server/classroom/dashboard.ts';
import { measureSse } from './sse-cost.ts';

export interface ClassroomHelpers {
  dir: string;
  startProcess(args: string[], env: Record<string, string>, port: number): Promise<string>;
  stop(url: string): Promise<void>;
  /** The CPU time (ms) the process serving `url` has used so far, or null. */
  cpuOf(url: string): number | null;
}

export interface ClassroomOptions {
  classes: number;
  students: number;
  /** How long the students work (s); the dashboards keep polling a little longer to catch the last solves. */
  seconds: number;
  processes: number;
  pollMs: number;
}

const LESSON = 'what-a-session-cookie-is';
/** A learner reads and thinks between clicks: 2-8 s, 5 s on average. */
const THINK_MS: [number, number] = [2000, 8000];

interface Student {
  origin: string;
  cookies: Map<string, string>;
  sandboxPath: string;
  studentId: string;
  classIndex: number;
  step: number;
  solved: number;
}

interface Meeting {
  solvedAt?: number;
  seenAt?: number;
}

export async function measureClassroom(h: ClassroomHelpers, o: ClassroomOptions): Promise<string> {
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);
  // This machine is shared: what else ran shows in the load average, printed with the figures.
  const loadBefore = loadavg()[0]!;
  const dbPath = join(h.dir, 'classroom.sqlite');
  const env = { DATABASE_PATH: dbPath, SESSION_SECRET: 'bench-secret-0123456789abcdef0123456789', SANDBOXES_PER_MINUTE: '1000000', SANDBOX_REQUESTS_PER_MINUTE: '1000000', TEACHER_REQUESTS_PER_MINUTE: '1000000', CLASS_REQUESTS_PER_MINUTE: '1000000' };
  const origins: string[] = [];
  // One after the other: two processes starting at once on a new file is tested elsewhere.
  for (let p = 0; p < o.processes; p++) origins.push(await h.startProcess(['dist/main.js'], { ...env, PORT: String(3311 + p), INSTANCE_NAME: `bench-${p}` }, 3311 + p));

  // Classes and students, set up as the lab would: a first lesson visit makes the learner and their
  // sandbox; the class membership is written through ClassStore on the same database file (the
  // /join route would refuse 400 joins a minute from one address: its limit is for a real class).
  const db = await openDatabase(dbPath);
  const classes = new ClassStore(db);
  const teachers: { token: string; classId: string; origin: string }[] = [];
  const students: Student[] = [];
  for (let c = 0; c < o.classes; c++) {
    const { record, token } = await classes.create(`Bench class ${c + 1}`, [LESSON]);
    teachers.push({ token, classId: record.id, origin: origins[(c + 1) % origins.length]! });
    await Promise.all(
      Array.from({ length: o.students }, async (_, s) => {
        const origin = origins[s % origins.length]!;
        const student: Student = { origin, cookies: new Map(), sandboxPath: '', studentId: '', classIndex: c, step: 0, solved: 0 };
        const page = await request(student, `/lessons/${LESSON}`, {});
        student.sandboxPath = /data-sandbox-path="([^"]+)"/.exec(page.text)?.[1] ?? '';
        const row = await db.get<{ learner_id: string }>('SELECT learner_id FROM lesson_sandboxes WHERE sandbox_id = ?', [student.sandboxPath.split('/').pop()]);
        if (!row) throw new Error(`no learner for ${student.sandboxPath}`);
        student.studentId = (await classes.join(record.id, row.learner_id, `Student ${c + 1}.${s + 1}`)).student.studentId;
        students.push(student);
      }),
    );
  }

  // The run: students work, dashboards poll.
  const meetings = new Map<string, Meeting>();
  const staleness: number[] = [];
  const meet = (key: string, side: 'solvedAt' | 'seenAt', at: number) => {
    const m = meetings.get(key) ?? {};
    if (m[side] !== undefined) return;
    m[side] = at;
    meetings.set(key, m);
    if (m.solvedAt !== undefined && m.seenAt !== undefined) staleness.push(Math.max(0, m.seenAt - m.solvedAt));
  };
  const latencies: number[] = [];
  const debugSteps: number[] = [];
  const debugChecks: number[] = [];
  const polls = { changed: 0, unchanged: 0, other: 0, ms: [] as number[] };
  const cpuStart = origins.map((u) => h.cpuOf(u));
  const started = performance.now();
  const end = started + o.seconds * 1000;
  let stopPolling = false;
  // BENCH_NO_DASHBOARDS=1: the same students without any dashboard, to see what the dashboards cost them.
  const pollers = (process.env.BENCH_NO_DASHBOARDS ? [] : teachers).map(async (teacher, c) => {
    const shown = new Map<string, number>();
    let ptag = '';
    await sleep(Math.random() * o.pollMs);
    while (!stopPolling) {
      const next = performance.now() + o.pollMs;
      const t0 = performance.now();
      const res = await fetch(`${teacher.origin}/teach/${teacher.token}/dashboard/live?lesson=${LESSON}`, { headers: { 'hx-request': 'true', accept: 'text/html', ...(ptag ? { 'hx-ptag': ptag } : {}) } });
      const text = await res.text();
      const now = performance.now();
      polls.ms.push(now - t0);
      if (res.status === 304) polls.unchanged++;
      else if (res.status === 200) {
        polls.changed++;
        ptag = res.headers.get('hx-ptag') ?? '';
        for (const tile of text.matchAll(/id="student-([^"]+)"[\s\S]*?<\/li>/g)) {
          const count = (tile[0].match(/class="mark solved"/g) ?? []).length;
          const before = shown.get(tile[1]!) ?? 0;
          for (let n = before + 1; n <= count; n++) meet(`${c} ${tile[1]} ${n}`, 'seenAt', now);
          shown.set(tile[1]!, count);
        }
      } else polls.other++;
      await sleep(Math.max(0, next - performance.now()));
    }
  });
  const working = students.map(async (student) => {
    await sleep(Math.random() * THINK_MS[1]);
    while (performance.now() < end) {
      const t0 = performance.now();
      const first = student.step === 0;
      await studentStep(student);
      // Each student's first step opens their connection: left out, as the main bench leaves out each connection's first answer.
      if (!first) latencies.push(performance.now() - t0);
      if (!first && process.env.BENCH_DEBUG) debugSteps.push(performance.now() - t0);
      // The lesson page refreshes its tasks after every exchange: that runs the checks.
      const checkStarted = performance.now();
      const tasks = await request(student, `/lessons/${LESSON}/tasks`, { 'hx-request': 'true' });
      if (!first) latencies.push(performance.now() - checkStarted);
      if (!first && process.env.BENCH_DEBUG) debugChecks.push(performance.now() - checkStarted);
      const solved = Number(/<strong>(\d+) of \d+ tasks<\/strong>/.exec(tasks.text)?.[1] ?? 0);
      // A solve happens during the check request: timed from when it was sent (the earliest it can be).
      for (let n = student.solved + 1; n <= solved; n++) meet(`${student.classIndex} ${student.studentId} ${n}`, 'solvedAt', checkStarted);
      student.solved = Math.max(student.solved, solved);
      await sleep(THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0]));
    }
  });
  await Promise.all(working);
  const studentsDone = performance.now();
  // Two more polls of every dashboard, for the last solves.
  await sleep(o.pollMs * 2 + 200);
  stopPolling = true;
  await Promise.all(pollers);
  const cpuUsed = origins.map((u, i) => (cpuStart[i] === null ? null : h.cpuOf(u)! - cpuStart[i]!));
  const solves = [...meetings.values()].filter((m) => m.solvedAt !== undefined).length;
  const unseen = [...meetings.values()].filter((m) => m.solvedAt !== undefined && m.seenAt === undefined).length;

  // The same students at the same pace against the bare express-session app.
  const baselineUrl = await h.startProcess(['--import', 'tsx', 'bench/baseline-app.ts'], { PORT: '3320', STORE: 'memory' }, 3320);
  // Warmed up as the lab was by the setup's page loads: a just-started process compiles as it goes.
  await autocannon({ url: `${baselineUrl}/visit`, connections: 10, amount: 2000 });
  const baseLatencies: number[] = [];
  const baseEnd = performance.now() + o.seconds * 1000;
  await Promise.all(
    students.map(async (s) => {
      const bare: Student = { ...s, origin: baselineUrl, cookies: new Map(), step: 0 };
      await sleep(Math.random() * THINK_MS[1]);
      let first = true;
      while (performance.now() < baseEnd) {
        for (const [path, body] of [['/write', 'key=user&value=ada'], ['/visit', null]] as const) {
          const t0 = performance.now();
          await request(bare, path, body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, body ?? undefined);
          if (!first) baseLatencies.push(performance.now() - t0);
        }
        first = false;
        await sleep(THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0]));
      }
    }),
  );

  // One refresh's cost: 304 (nothing changed), a full render of 40 students, and a bare request.
  const teacher = teachers[0]!;
  const live = `/teach/${teacher.token}/dashboard/live?lesson=${LESSON}`;
  // The fingerprint includes the time in steps (idleness): start a 3 s measurement just after a step begins.
  await sleep(TIME_STEP_MS - (Date.now() % TIME_STEP_MS) + 50);
  const ptag = (await fetch(teacher.origin + live, { headers: { 'hx-request': 'true' } })).headers.get('hx-ptag') ?? '';
  const unchanged = await cpuPerRequest(h, teacher.origin, live, { 'hx-request': 'true', 'hx-ptag': ptag }, 304);
  const full = await cpuPerRequest(h, teacher.origin, live, { 'hx-request': 'true' }, 200);
  const bareCookie = (await fetch(`${baselineUrl}/write`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=a&value=1' })).headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const bare = await cpuPerRequest(h, baselineUrl, '/visit', { cookie: bareCookie }, 200);
  await h.stop(baselineUrl);
  // What server-sent events would still do per class and tick: the same fingerprint query, without the HTTP request around it.
  const record = (await classes.byId(teacher.classId))!;
  const dashboard = new Dashboard(db, classes);
  const cpu0 = process.cpuUsage();
  const checks = 500;
  for (let i = 0; i < checks; i++) await dashboard.fingerprint(record, LESSON);
  const cpu1 = process.cpuUsage(cpu0);
  const fingerprintUs = (cpu1.user + cpu1.system) / checks;
  await db.close();
  for (const origin of origins) await h.stop(origin);
  // And what SSE's own parts would cost: a held stream, and a push down it.
  const sse = await measureSse();

  const p = (list: number[], q: number) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : NaN;
  };
  const ms = (n: number) => `${Math.round(n)} ms`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const workSeconds = (studentsDone - started) / 1000;
  if (process.env.BENCH_DEBUG) say(`debug: sandbox steps p50 ${ms(p(debugSteps, 0.5))} p99 ${ms(p(debugSteps, 0.99))}; checks p50 ${ms(p(debugChecks, 0.5))} p99 ${ms(p(debugChecks, 0.99))}`);
  say(`Classroom: ${o.classes} classes of ${o.students} students on ${o.processes} app process${o.processes === 1 ? '' : 'es'} sharing one SQLite file, ${o.seconds} s at a learner's pace (a sandbox request and the task check, then ${THINK_MS[0] / 1000}-${THINK_MS[1] / 1000} s of reading), every dashboard polled every ${o.pollMs} ms.`);
  say(`| what | lab | bare express-session, same students and pace | ratio |`);
  say(`| --- | --- | --- | --- |`);
  say(`| students' requests | ${latencies.length} in ${workSeconds.toFixed(0)} s (${(latencies.length / workSeconds).toFixed(0)}/s) | ${baseLatencies.length} | |`);
  say(`| students' p50 | ${ms(p(latencies, 0.5))} | ${ms(p(baseLatencies, 0.5))} | ${ratio(p(latencies, 0.5), p(baseLatencies, 0.5))} |`);
  say(`| students' p99 | ${ms(p(latencies, 0.99))} | ${ms(p(baseLatencies, 0.99))} | ${ratio(p(latencies, 0.99), p(baseLatencies, 0.99))} |`);
  say(`| dashboard refresh, nothing changed (304), CPU | ${unchanged.toFixed(0)} µs | ${bare.toFixed(0)} µs (a session read) | ${ratio(unchanged, bare)} |`);
  say(`| dashboard refresh, changed (40 students rendered), CPU | ${full.toFixed(0)} µs | ${bare.toFixed(0)} µs | ${ratio(full, bare)} |`);
  say(`| the fingerprint query alone (what SSE would still run per class and tick), CPU in the caller | ${fingerprintUs.toFixed(0)} µs | ${bare.toFixed(0)} µs | ${ratio(fingerprintUs, bare)} |`);
  // The bare floor of polling: a zero-cost server polled every pollMs shows a solve after a uniform wait.
  const ideal50 = o.pollMs * 0.5;
  const ideal95 = o.pollMs * 0.95;
  say(`| solve to dashboard, p50 | ${ms(p(staleness, 0.5))} | ${ms(ideal50)} (polling every ${o.pollMs} ms, zero-cost server) | ${ratio(p(staleness, 0.5), ideal50)} |`);
  say(`| solve to dashboard, p95 | ${ms(p(staleness, 0.95))} | ${ms(ideal95)} | ${ratio(p(staleness, 0.95), ideal95)} |`);
  say('');
  say(`${sse}.`);
  say(`${solves} solves, ${staleness.length} seen on a dashboard (${unseen} not seen before the end); polls: ${polls.changed} changed, ${polls.unchanged} unchanged (304), ${polls.other} other; poll p50 ${ms(p(polls.ms, 0.5))}, p99 ${ms(p(polls.ms, 0.99))}.`);
  const cpuLine = cpuUsed.map((c, i) => (c === null ? '' : `process ${i + 1}: ${((c / 1000 / workSeconds) * 100).toFixed(0)}% of a core`)).filter(Boolean);
  if (cpuLine.length) say(`App CPU during the run (students, checks and dashboards): ${cpuLine.join(', ')}.`);
  say(`Load average (1 min) before the run ${loadBefore.toFixed(1)}, after ${loadavg()[0]!.toFixed(1)} (${cpus().length} cores): above the core count, other work competed for them.`);
  return lines.join('\n');
}

/** One step of the lesson, as a learner clicks it: write, visit, rename the cookie, write; then visits and writes. */
async function studentStep(student: Student): Promise<void> {
  const step = student.step++;
  const htmx = { 'hx-request': 'true' };
  if (step === 2) {
    await request(student, `/api/sandboxes/${student.sandboxPath.split('/').pop()}/options`, { 'content-type': 'application/json' }, JSON.stringify({ name: 'lab_sid' }), 'PUT');
    await request(student, `${student.sandboxPath}/write`, { ...htmx, 'content-type': 'application/x-www-form-urlencoded' }, 'key=user&value=ada');
  } else if (step % 2 === 0) await request(student, `${student.sandboxPath}/write`, { ...htmx, 'content-type': 'application/x-www-form-urlencoded' }, 'key=user&value=ada');
  else await request(student, `${student.sandboxPath}/visit`, htmx);
}

/** A request as the student's browser sends it: every cookie it holds (no path logic: one sandbox each). */
async function request(student: Student, path: string, headers: Record<string, string>, body?: string, method = body ? 'POST' : 'GET'): Promise<{ status: number; text: string }> {
  const cookie = [...student.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(student.origin + path, { method, headers: { accept: 'text/html', ...headers, ...(cookie ? { cookie } : {}) }, body, redirect: 'manual' });
  for (const header of res.headers.getSetCookie()) {
    const pair = header.split(';')[0]!;
    const eq = pair.indexOf('=');
    student.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return { status: res.status, text };
}

/** The server's CPU time per answer (µs) under 10 connections for 3 s. */
async function cpuPerRequest(h: ClassroomHelpers, origin: string, path: string, headers: Record<string, string>, status: number): Promise<number> {
  const before = h.cpuOf(origin);
  const result = await autocannon({ url: origin + path, connections: 10, duration: 3, headers });
  const after = h.cpuOf(origin);
  const answered = result.requests.total;
  const codes = (result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats;
  const wrong = Object.entries(codes).filter(([code]) => Number(code) !== status);
  if (wrong.length > 0 || result.errors > 0) throw new Error(`${path}: answers other than ${status}: ${JSON.stringify(wrong)}, ${result.errors} errors`);
  return before === null || after === null ? NaN : ((after - before) * 1000) / answered;
}
