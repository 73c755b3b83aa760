// What the class bar's poll costs (GET /class/bar, every 2 s from every student of a class): 40
// students of one class, each with their own site cookie, polling as fast as autocannon can, against
// the lab in this process on a fresh SQLite file. Prints requests per second, latency and the
// process's CPU time per poll, and what 10 classes of 40 at one poll per 2 s would cost of one core.
// Run: node --import tsx bench/class-bar-poll.ts
import autocannon from 'autocannon';
import { startLab } from '../test/support/lab.ts';
import { FIRST_LESSON, createClass, joined } from '../test/support/classroom.ts';

const STUDENTS = 40;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const lab = await startLab({ limits: { joinsPerMinute: 1e9, joinsPerClassPerMinute: 1e9, teacherRequestsPerMinute: 1e9 } });
try {
  const cls = await createClass(lab.baseUrl, 'Bench', [FIRST_LESSON]);
  const cookies: string[] = [];
  for (let i = 0; i < STUDENTS; i++) cookies.push((await joined(lab.baseUrl, cls.code, `Student ${i}`)).cookieHeader()!);
  const requests = cookies.map((cookie) => ({ method: 'GET' as const, path: '/class/bar', headers: { cookie, 'hx-request': 'true' } }));
  // Warm the caches (the site sessions, the memberships, the class), as a running class has them.
  await autocannon({ url: lab.baseUrl, connections: STUDENTS, duration: 1, requests });
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({ url: lab.baseUrl, connections: STUDENTS, duration: SECONDS, requests });
  const cpu = process.cpuUsage(cpuBefore);
  // autocannon runs in this process too: its share is in the CPU time, so the figure is an upper bound.
  const cpuPerPollUs = (cpu.user + cpu.system) / result.requests.total;
  const pollsPerSecond = (10 * STUDENTS) / 2;
  console.log(`class bar poll, ${STUDENTS} students of one class, ${SECONDS} s: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
  console.log(`CPU per poll (server and load generator together, an upper bound): ${Math.round(cpuPerPollUs)} µs`);
  console.log(`10 classes of 40 polling every 2 s = ${pollsPerSecond} polls/s = at most ${((pollsPerSecond * cpuPerPollUs) / 1e4).toFixed(1)}% of one core`);
} finally {
  await lab.stop();
}
