// What the sandbox specs share: opening a sandbox or a lesson, the page's landmarks, the cookies
// Chromium holds, the exchanges the server recorded, and "is it on screen" as a learner sees it.
import { expect, test as base, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { AxeBuilder } from '@axe-core/playwright';

/** The sizes every story runs at: a laptop and a phone. */
export const SCREENS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
export type Screen = (typeof SCREENS)[number];

export const COOKIE_NAME = 'mycookie';

/** Opens /lab (which redirects to a fresh sandbox) and returns the page's landmarks. */
export async function openSandbox(page: Page) {
  await page.goto('/lab');
  await expect(page).toHaveURL(/\/sandbox\/[A-Za-z0-9_-]+$/);
  await expect(page.getByRole('heading', { name: 'Options' })).toBeVisible();
  return sandboxLandmarks(page, new URL(page.url()).pathname);
}

/** Opens a lesson (by slug; the course's first one when none is given), its sandbox beside the text. */
export async function openLesson(page: Page, slug?: string) {
  if (slug) await page.goto(`/lessons/${slug}`);
  else {
    await page.goto('/lessons');
    await page.locator('.lesson-list').getByRole('link').first().click();
  }
  await expect(page).toHaveURL(/\/lessons\/[a-z0-9-]+$/);
  await expect(page.getByRole('heading', { name: 'Options' })).toBeVisible();
  const path = await page.locator('.sandbox').getAttribute('data-sandbox-path');
  expect(path).toMatch(/^\/sandbox\/[A-Za-z0-9_-]+$/);
  return sandboxLandmarks(page, path!);
}

export type Lab = ReturnType<typeof sandboxLandmarks>;

/** The sandbox's panels, on its own page or beside a lesson. */
export function sandboxLandmarks(page: Page, path: string) {
  const requests = page.getByRole('region', { name: 'Requests from your browser' });
  const inspectorPanel = page.getByRole('region', { name: 'Inspector: the latest exchange' });
  const inspector = inspectorPanel.locator('#inspector');
  const jarRegion = inspectorPanel.getByRole('region', { name: 'What your browser did' });
  return {
    path,
    id: path.split('/').pop()!,
    requests,
    visit: requests.getByRole('button', { name: 'Visit', exact: true }),
    write: requests.getByRole('button', { name: 'Write', exact: true }),
    slow: requests.getByRole('button', { name: 'Slow visit', exact: true }),
    regenerate: requests.getByRole('button', { name: 'Regenerate', exact: true }),
    destroy: requests.getByRole('button', { name: 'Destroy', exact: true }),
    clearCookie: requests.getByRole('button', { name: 'Clear my cookie', exact: true }),
    keyInput: requests.getByLabel('Key'),
    valueInput: requests.getByLabel('Value'),
    delayInput: requests.getByLabel('Delay (ms)'),
    nameInput: page.getByLabel('name', { exact: true }),
    /** Where a rejected sandbox request's message lands (under the request forms). */
    requestAlert: requests.getByRole('alert'),
    /** The live region under the buttons: the result line, a note, or a refusal. */
    requestStatus: requests.locator('#request-status'),
    /** The one-line account of the latest answer, under the request forms. */
    summary: requests.locator('.request-summary'),
    /** Names a task the last click solved (lesson pages). */
    taskNotice: requests.locator('#task-notice[role="status"]'),
    /** Shown while a slow visit runs. */
    waiting: requests.getByText('Waiting for the answer'),
    readProbe: page.getByRole('button', { name: 'Read document.cookie' }),
    probe: page.getByRole('region', { name: 'What can page JavaScript see?' }).getByRole('status'),
    inspectorPanel,
    inspector,
    exchange: (n: number) => inspector.getByRole('article', { name: `Exchange ${n}` }),
    setCookie: inspector.locator('pre.set-cookie'),
    requestCookie: inspector.locator('pre.request-cookie'),
    storeCalls: inspector.locator('.store-calls, .store-calls-none'),
    ranWith: inspector.locator('.ran-with'),
    optionsChanged: inspector.locator('.options-changed'),
    jarRegion,
    /** The jar's verdict (partials/jar): data-verdict holds stored, refused, deleted… */
    jar: jarRegion.locator('.jar'),
    sessionView: page.getByRole('region', { name: 'The session in the store' }),
    history: page.getByRole('region', { name: 'Recent exchanges' }),
    codeView: page.getByRole('region', { name: 'The same configuration in code' }),
    /** The .field wrapper holding a form control, its label, hint and error. */
    fieldOf: (control: Locator) => page.locator('#options-form .field').filter({ has: control }),
  };
}

/** The jar's verdict, once it is about exchange `n` (its words name the exchange). */
export async function jarVerdictFor(lab: Lab, n: number): Promise<string> {
  await expect(lab.jar).toContainText(new RegExp(`#${n}\\b`));
  return (await lab.jar.getAttribute('data-verdict'))!;
}

export async function findCookie(context: BrowserContext, name: string) {
  return (await context.cookies()).find((cookie) => cookie.name === name);
}

/** What the server recorded of a sandbox's exchanges (its JSON API), oldest first. */
export async function recordedExchanges(page: Page, id: string): Promise<{ number: number; action: string; options: { name: string }; optionsChanged: { since: number; changes: { field: string; from: unknown; to: unknown }[] } | null }[]> {
  const answer = await page.request.get(`/api/sandboxes/${id}/exchanges`, { headers: { accept: 'application/json' } });
  expect(answer.status()).toBe(200);
  return ((await answer.json()) as { exchanges: never[] }).exchanges;
}

/**
 * The whole of the element is on screen: inside the viewport and inside every box that clips it
 * (the sticky inspector scrolls on its own), as the learner sees it, without scrolling.
 */
export async function expectOnScreen(locator: Locator, what: string): Promise<void> {
  await expect(locator, `${what} is there`).toBeVisible();
  const seen = await locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    let clip = { top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth };
    for (let up = element.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowY === 'visible' && style.overflowX === 'visible') continue;
      const r = up.getBoundingClientRect();
      clip = { top: Math.max(clip.top, r.top), left: Math.max(clip.left, r.left), bottom: Math.min(clip.bottom, r.bottom), right: Math.min(clip.right, r.right) };
    }
    return { box: { top: box.top, bottom: box.bottom, left: box.left, right: box.right }, clip };
  });
  const { box, clip } = seen;
  const inside = box.top >= clip.top - 1 && box.bottom <= clip.bottom + 1 && box.left >= clip.left - 1 && box.right <= clip.right + 1;
  expect(inside, `${what} is wholly on screen: ${JSON.stringify(seen)}`).toBe(true);
  // And the same from Playwright's own geometry: the box is inside the viewport.
  const viewport = locator.page().viewportSize()!;
  const measured = (await locator.boundingBox())!;
  expect(measured.y, `${what}: top inside the viewport`).toBeGreaterThanOrEqual(-1);
  expect(measured.y + measured.height, `${what}: bottom inside the viewport`).toBeLessThanOrEqual(viewport.height + 1);
}

/** axe finds nothing serious or critical, in the light and the dark colour scheme. */
export async function expectNoSeriousAxeViolations(page: Page, where: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${where}, ${scheme}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}

const consoleLog = new WeakMap<Page, string[]>();
const allowed = new WeakMap<Page, RegExp[]>();

/** Records console errors, uncaught exceptions and CSP violations (also reported from the page itself). */
export async function watchConsole(page: Page): Promise<void> {
  const problems: string[] = [];
  consoleLog.set(page, problems);
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(text)) {
      problems.push(`${message.type()}: ${text} @ ${message.location().url}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`Content-Security-Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} in ${event.sourceFile}:${event.lineNumber}`);
    });
  });
}

export function allowConsoleErrors(page: Page, ...patterns: RegExp[]): void {
  allowed.set(page, [...(allowed.get(page) ?? []), ...patterns]);
}

export function consoleProblems(page: Page): string[] {
  const patterns = allowed.get(page) ?? [];
  return (consoleLog.get(page) ?? []).filter((line) => !patterns.some((pattern) => pattern.test(line)));
}

/**
 * Playwright's `test`, with every page watched: a console error, page error or CSP violation fails
 * the test it happened in (allowConsoleErrors() lets one through).
 */
export const test = base.extend<{ consoleWatch: void }>({
  consoleWatch: [
    async ({ page }, use) => {
      await watchConsole(page);
      await use();
      expect(consoleProblems(page), 'console errors, page errors or CSP violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };
