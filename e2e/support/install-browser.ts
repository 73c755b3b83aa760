// Runs before the end-to-end tests (npm's pretest:e2e): where Debian's Chromium is missing, it
// fetches Playwright's own Chromium, so the README's one test command works on any machine.
import { execFileSync } from 'node:child_process';
import { chromiumExecutable, DEBIAN_CHROMIUM } from './browser.ts';

if (chromiumExecutable()) {
  console.log(`Playwright will drive ${DEBIAN_CHROMIUM}.`);
} else {
  console.log(`${DEBIAN_CHROMIUM} is not installed: fetching Playwright's own Chromium (once).`);
  execFileSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
}
