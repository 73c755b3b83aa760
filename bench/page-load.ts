// How soon a lesson page is usable on a slow connection: Chromium with the network throttled to
// "Fast 3G" (562 ms round trip, 1.4 Mbit/s down), cold cache, from navigation to htmx ready.
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';

const url = process.argv[2];
if (!url) throw new Error('usage: page-load.ts <lesson page url>');

const browser = await chromium.launch({
  executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined,
  args: ['--no-sandbox', '--disable-background-networking'],
});
const times: number[] = [];
let bytes = 0;
for (let run = 0; run < 3; run++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 562, downloadThroughput: (1.44 * 1024 * 1024) / 8, uploadThroughput: (675 * 1024) / 8 });
  let received = 0;
  cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => (received += event.encodedDataLength));
  const started = performance.now();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => 'htmx' in window && document.readyState === 'complete');
  times.push(performance.now() - started);
  bytes = received;
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(
  `lesson page on a throttled connection (Fast 3G, cold cache): usable after ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} ` +
    `(median ${times[1]!.toFixed(0)} ms), ${(bytes / 1024).toFixed(1)} KB transferred`,
);
