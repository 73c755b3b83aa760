// What server-sent events would cost the dashboard, measured on the same stack (Express 5): the
// server memory one held event stream takes, and the server CPU to push one dashboard-sized
// fragment down one stream. The classroom scenario (classroom.ts) prints these beside what a poll
// costs, for docs/performance.md's choice between the two.
//
// Run as `node --import tsx bench/sse-cost.ts`: it starts itself as the server (SSE_SERVER=1) in a
// child process, so the server's memory and CPU are read from /proc apart from the client's.
import express from 'express';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs } from './process-cpu.ts';

const PORT = 3330;

if (process.env.SSE_SERVER) {
  const streams = new Set<express.Response>();
  const app = express();
  app.get('/events', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': open\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  // One message of `bytes` bytes of HTML to every stream, as an htmx SSE swap would receive it.
  app.post('/push', (req, res) => {
    const bytes = Number(req.query.bytes ?? 10_000);
    const times = Number(req.query.times ?? 1);
    const line = `data: ${'<li class="student">x</li>'.repeat(Math.ceil(bytes / 26)).slice(0, bytes)}\n\n`;
    for (let t = 0; t < times; t++) for (const stream of streams) stream.write(line);
    res.json({ streams: streams.size });
  });
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.listen(PORT, '127.0.0.1');
} else if (process.argv[1]?.endsWith('sse-cost.ts')) {
  console.log(await measureSse());
}

/** The server's resident memory (KB) and CPU time (ms) from /proc. */
function usage(pid: number): { rssKb: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { rssKb, cpuMs: cpuMs(pid) ?? NaN };
}

export async function measureSse(streams = 400, bytes = 10_000, pushes = 50): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sse-cost.ts'], { env: { ...process.env, SSE_SERVER: '1' }, stdio: 'ignore' });
  try {
    for (let i = 0; i < 300; i++) {
      const up = await fetch(`http://127.0.0.1:${PORT}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      await sleep(50);
    }
    // Warm up, then settle, before the first reading.
    await fetch(`http://127.0.0.1:${PORT}/push?bytes=10&times=100`, { method: 'POST' });
    await sleep(500);
    const before = usage(child.pid!);
    let received = 0;
    const open = await Promise.all(
      Array.from({ length: streams }, () =>
        new Promise<() => void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port: PORT, path: '/events', agent: false }, (res) => {
            res.on('data', (chunk: Buffer) => (received += chunk.length));
            resolve(() => req.destroy());
          });
          req.on('error', reject);
          req.end();
        }),
      ),
    );
    await sleep(500);
    const held = usage(child.pid!);
    const pushed = await fetch(`http://127.0.0.1:${PORT}/push?bytes=${bytes}&times=${pushes}`, { method: 'POST' });
    await pushed.json();
    const expected = streams * pushes * bytes;
    for (let i = 0; i < 200 && received < expected; i++) await sleep(50);
    const after = usage(child.pid!);
    for (const close of open) close();
    const perStreamKb = (held.rssKb - before.rssKb) / streams;
    const perPushUs = ((after.cpuMs - held.cpuMs) * 1000) / (streams * pushes);
    return `server-sent events on the same stack: ${streams} held streams take ${((held.rssKb - before.rssKb) / 1024).toFixed(1)} MB resident (${perStreamKb.toFixed(1)} KB each); pushing a ${(bytes / 1000).toFixed(0)} KB fragment down one stream costs ${perPushUs.toFixed(0)} µs of server CPU (${pushes} pushes to each, ${(received / 1e6).toFixed(0)} MB received)`;
  } finally {
    child.kill('SIGKILL');
  }
}
