// The teacher's dashboard in Chromium: a teacher and three students, each in a browser context of
// their own. Students solve tasks and fail checks in their own sandboxes; the dashboard shows it
// without a reload; the failed checks appear grouped; a consenting student's exchange goes on the
// projector without their name. Then 40 students, seeded through the real join and sandbox
// routes, on a 1366x768 screenshot, axe-clean. No sleeps: every step waits for what the teacher
// would see (the dashboard polls every second).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { APIRequestContext, Browser, Page } from '@playwright/test';
import { request as playwrightRequest } from '@playwright/test';
import { consoleProblems, expect, expectNoSeriousAxeViolations, test, watchConsole } from './support/lab-page.ts';

const SHOTS = join('test-results', 'dashboard');
const FIRST = 'what-a-session-cookie-is';
/** A change shows at the dashboard's next poll (1 s), with room for a loaded machine. */
const LIVE = { timeout: 5_000 };

test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

async function createClass(teacher: Page, title: string): Promise<{ token: string; code: string }> {
  await teacher.goto('/teach');
  await teacher.getByLabel('Title').fill(title);
  await teacher.getByLabel('1. What a session cookie is').check();
  await teacher.getByLabel('2. The secret signs, it does not encrypt').check();
  await teacher.getByRole('button', { name: 'Create the class' }).click();
  await expect(teacher).toHaveURL(/\/teach\/[A-Za-z0-9_-]{43}\?done=created$/);
  const token = new URL(teacher.url()).pathname.split('/')[2]!;
  const code = (await teacher.locator('.join-code').textContent())!.trim();
  return { token, code };
}

async function student(browser: Browser, baseURL: string | undefined, code: string, name: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await watchConsole(page);
  await page.goto(`/join/${code.replace('-', '')}`);
  await page.getByLabel('Your display name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(new RegExp(`/lessons/${FIRST}$`));
  await expect(page.getByRole('region', { name: 'Your class' })).toContainText(`you are ${name}`);
  return {
    page,
    /** Presses a request button and waits for the tasks' refresh that checks it. */
    press: async (button: 'Write' | 'Visit') => {
      const checked = page.waitForResponse((res) => res.url().includes(`/lessons/${FIRST}/tasks`));
      await page.getByRole('button', { name: button, exact: true }).click();
      await checked;
    },
    close: async () => {
      expect(consoleProblems(page), 'console errors, page errors or CSP violations').toEqual([]);
      await context.close();
    },
  };
}

test('the dashboard follows a class live and projects a consenting student', async ({ page: teacher, browser, baseURL }) => {
  test.setTimeout(90_000);
  await teacher.setViewportSize({ width: 1366, height: 768 });
  const { token, code } = await createClass(teacher, 'Live dashboard');
  await teacher.getByRole('link', { name: 'Open the dashboard' }).click();
  await expect(teacher).toHaveURL(new RegExp(`/teach/${token}/dashboard$`));
  await expect(teacher.getByRole('heading', { name: 'Students (0)' })).toBeVisible();

  const ada = await student(browser, baseURL, code, 'Ada Lovelace');
  const bob = await student(browser, baseURL, code, 'Bob <b>Marley');
  const cy = await student(browser, baseURL, code, 'Cy Twombly');
  const tile = (name: string) => teacher.locator('li.student', { has: teacher.locator(`.name[title="${name}"]`) });
  const live = teacher.locator('#dashboard-live');

  await test.step('students appear without a reload, names escaped', async () => {
    await expect(teacher.getByRole('heading', { name: 'Students (3)' })).toBeVisible(LIVE);
    await expect(tile('Bob <b>Marley')).toContainText('Bob <b>Marley');
    expect(await live.locator('b', { hasText: 'Bob' }).count()).toBe(0);
    for (const s of [ada, bob, cy]) expect(await s.page.content()).not.toContain(token);
  });

  await test.step('a solve shows on the dashboard without a reload', async () => {
    const navigations: string[] = [];
    teacher.on('framenavigated', (frame) => navigations.push(frame.url()));
    await ada.press('Write');
    await expect(ada.page.locator('#task-get-a-cookie')).toHaveClass(/solved/);
    await expect(tile('Ada Lovelace').locator('.mark.solved')).toHaveCount(1, LIVE);
    await expect(teacher.locator('.task-list')).toContainText('1 of 3 solved', LIVE);
    expect(navigations, 'the dashboard never reloaded').toEqual([]);
  });

  await test.step('failed checks appear grouped by what they observed', async () => {
    // A visit where the task wants a write: the check fails, and says what it saw.
    await bob.press('Visit');
    await cy.press('Visit');
    const group = teacher.locator('.failure-group').filter({ hasText: /not "write"/ });
    await expect(group).toContainText('× 2', LIVE);
    await expect(group).toContainText('nobody here agreed to be projected');
  });

  await test.step('a student consents; the teacher projects their exchange, without the name', async () => {
    await bob.page.getByRole('button', { name: 'Let the teacher show my exchange on the projector' }).click();
    await expect(bob.page.getByRole('button', { name: 'Let the teacher show my exchange on the projector' })).toHaveAttribute('aria-pressed', 'true');
    const project = teacher.getByRole('button', { name: /Project an example of: .*not "write"/ });
    await expect(project).toBeVisible(LIVE);
    await project.click();
    await expect(teacher.getByRole('button', { name: 'Stop projecting' })).toBeVisible();

    const projector = await teacher.context().newPage();
    await watchConsole(projector);
    await expect(teacher.getByRole('link', { name: 'Open the projector view' })).toHaveAttribute('href', `/projector/${code.replace('-', '')}`);
    await projector.goto(`/projector/${code.replace('-', '')}`);
    await expect(projector.getByRole('heading', { name: 'An exchange from the class' })).toBeVisible();
    await expect(projector.locator('#inspector')).toContainText('GET /sandbox/…/visit');
    const text = (await projector.content()).toString();
    for (const secret of ['Lovelace', 'Marley', 'Twombly', token]) expect(text).not.toContain(secret);

    // The bars, shown on the projector from the dashboard: counts, no names.
    await teacher.getByRole('button', { name: 'Show the bars on the projector' }).click();
    await expect(projector.getByRole('heading', { name: /how many solved each task/ })).toBeVisible(LIVE);
    await expect(projector.locator('.projector-task-list')).toContainText('1 of 3');
    await projector.screenshot({ path: join(SHOTS, 'projector.png') });
    await expectNoSeriousAxeViolations(projector, 'projector');
    expect(consoleProblems(projector)).toEqual([]);

    // Bob withdraws: the projector drops his exchange at its next poll.
    await bob.page.getByRole('button', { name: 'Let the teacher show my exchange on the projector' }).click();
    await expect(projector.getByRole('heading', { name: 'An exchange from the class' })).toHaveCount(0, LIVE);
    await projector.close();
  });

  await expectNoSeriousAxeViolations(teacher, 'dashboard');
  for (const s of [ada, bob, cy]) await s.close();
});

/** One student through the real routes, without a browser: join, open the lesson, press buttons, let the tasks be checked. */
async function seededStudent(baseURL: string, code: string, name: string, steps: ('write' | 'visit')[]): Promise<APIRequestContext> {
  const api = await playwrightRequest.newContext({ baseURL });
  await api.get(`/join/${code}`);
  const joined = await api.post('/join', { form: { code, name } });
  expect(joined.ok(), `${name} joins`).toBe(true);
  const lesson = await (await api.get(`/lessons/${FIRST}`)).text();
  const sandbox = /data-sandbox-path="([^"]+)"/.exec(lesson)?.[1];
  expect(sandbox).toBeTruthy();
  for (const step of steps) {
    const answer = step === 'write' ? await api.post(`${sandbox}/write`, { form: { key: 'user', value: 'ada' }, headers: { 'hx-request': 'true' } }) : await api.get(`${sandbox}/visit`, { headers: { 'hx-request': 'true' } });
    expect(answer.ok()).toBe(true);
    expect((await api.get(`/lessons/${FIRST}/tasks`, { headers: { 'hx-request': 'true' } })).ok()).toBe(true);
  }
  return api;
}

test('forty students fit on a laptop screen, axe-clean', async ({ page: teacher, baseURL }) => {
  test.setTimeout(120_000);
  await teacher.setViewportSize({ width: 1366, height: 768 });
  const { token, code } = await createClass(teacher, 'Session cookies, period 3');
  const plain = code.replace('-', '');
  const names = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Dennis', 'Barbara', 'Ken', 'Frances', 'Edsger', 'Radia', 'Tim', 'Hedy', 'Donald', 'Katherine', 'John', 'Sophie', 'Guido', 'Anita', 'Bjarne'];
  const plans: ('write' | 'visit')[][] = [[], ['write'], ['write', 'visit'], ['visit', 'visit', 'visit']];
  const students: APIRequestContext[] = [];
  // Ten at a time: a class joining at once, within the per-address join limit.
  for (let batch = 0; batch < 4; batch++) {
    students.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => {
      const i = batch * 10 + k;
      return seededStudent(baseURL!, plain, `${names[i % 20]} ${String.fromCharCode(65 + Math.floor(i / 20))}.`, plans[i % 4]!);
    }))));
  }
  await teacher.goto(`/teach/${token}/dashboard`);
  await expect(teacher.getByRole('heading', { name: 'Students (40)' })).toBeVisible();
  await expect(teacher.locator('li.student')).toHaveCount(40);
  // The whole class on one screen: the last tile is inside the viewport.
  const last = await teacher.locator('li.student').last().boundingBox();
  expect(last!.y + last!.height).toBeLessThanOrEqual(768);
  await expect(teacher.locator('.failure-group').first()).toContainText('× 10');
  await teacher.screenshot({ path: join(SHOTS, 'dashboard-40.png') });
  await expectNoSeriousAxeViolations(teacher, 'dashboard of 40');
  for (const api of students) await api.dispose();
});
