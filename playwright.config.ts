// Playwright end-to-end tests: the app as a user starts it (npm start: the build, then
// dist/main.js) on a fixed port, over a fresh SQLite file per run, driven by Debian's Chromium when
// it is installed (else Playwright's own, which npm's pretest:e2e fetches). With
// LAB_TEST_DATABASE_URL / LAB_TEST_REDIS_URL, on PostgreSQL and Redis instead.
import { defineConfig, devices } from '@playwright/test';
import { join } from 'node:path';
import { chromiumExecutable } from './e2e/support/browser.ts';

// E2E_PORT lets two runs (or a run beside a dev server) on one machine keep apart.
const PORT = Number(process.env.E2E_PORT || 3210);
const baseURL = `http://localhost:${PORT}`;
// A fresh database per run; the app creates the folder (openDatabase does mkdir -p). Computed once
// in the runner process and handed to the web server through its env.
const databasePath = join('test-results', 'e2e-db', `lab-${Date.now()}.sqlite`);
// CI runs the suite again on PostgreSQL and Redis (the same variables as the unit suites): the
// app then gets a schema and a key prefix of its own for this run.
const runId = `e2e_${Date.now()}`;
const database: Record<string, string> = process.env.LAB_TEST_DATABASE_URL
  ? { DATABASE_URL: process.env.LAB_TEST_DATABASE_URL, DATABASE_SCHEMA: runId }
  : { DATABASE_PATH: databasePath };
const redis: Record<string, string> = process.env.LAB_TEST_REDIS_URL
  ? { REDIS_URL: process.env.LAB_TEST_REDIS_URL, REDIS_PREFIX: `${runId}:`, SITE_SESSION_STORE: process.env.LAB_TEST_SITE_SESSION_STORE === 'redis' ? 'redis' : 'database' }
  : {};

export default defineConfig({
  testDir: './e2e',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  // No retries: a flaky test is a bug to fix, not to hide.
  retries: 0,
  workers: 2,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: chromiumExecutable(),
          args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync'],
        },
      },
    },
  ],
  webServer: {
    // What a user runs: the build, with its precompiled templates.
    command: 'npm start',
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PORT: String(PORT),
      HOST: '127.0.0.1',
      ...database,
      ...redis,
      SESSION_SECRET: 'e2e-test-session-secret-0123456789abcdef',
      NODE_ENV: 'test',
    },
  },
});
