// Every console error and uncaught page error, so a test can fail on any (CSP violations included).
import type { Page } from '@playwright/test';

export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}
