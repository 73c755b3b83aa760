// A class in Chromium: one teacher and three students, each in a browser context of their own (as
// on their own laptops). The teacher creates a class; students join by link and by code; one
// solves a task; the teacher sends everyone to a task, and the students who follow are moved
// while the one who chose their own pace stays put; a message arrives; the teacher exports the
// CSV and reads it; the class is closed and a late student is refused. No sleeps: every step
// waits for what the user would see (the class bar polls every 2 s).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { allowConsoleErrors, consoleProblems, expect, expectNoSeriousAxeViolations, test, watchConsole } from './support/lab-page.ts';

const SHOTS = join('test-results', 'classroom');
const FIRST = 'what-a-session-cookie-is';
const SECOND = 'the-secret-signs';
/** A follower's page moves at its next poll (2 s), plus a page load. */
const MOVE = { timeout: 10_000 };

test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

/** A student's own browser (a context of its own: its own cookies, its own learner). */
async function studentBrowser(browser: Browser, baseURL: string | undefined): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await watchConsole(page);
  return {
    page,
    close: async () => {
      expect(consoleProblems(page), 'console errors, page errors or CSP violations').toEqual([]);
      await context.close();
    },
  };
}

async function joinAs(page: Page, name: string) {
  await page.getByLabel('Your display name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(new RegExp(`/lessons/${FIRST}$`));
  const bar = page.getByRole('region', { name: 'Your class' });
  await expect(bar).toContainText(`you are ${name}`);
  return bar;
}

test('a teacher runs a class of three students', async ({ page: teacher, browser, baseURL }) => {
  test.setTimeout(120_000);
  await teacher.setViewportSize({ width: 1280, height: 900 });

  const { code, joinLink } = await test.step('the teacher creates a class', async () => {
    await teacher.goto('/teach');
    await teacher.getByLabel('Title').fill('Session cookies, 3rd period');
    await teacher.getByLabel('1. What a session cookie is').check();
    await teacher.getByLabel('2. The secret signs, it does not encrypt').check();
    await teacher.getByRole('button', { name: 'Create the class' }).click();
    await expect(teacher).toHaveURL(/\/teach\/[A-Za-z0-9_-]{43}\?done=created$/);
    await expect(teacher.getByRole('heading', { name: 'Session cookies, 3rd period' })).toBeVisible();
    await expect(teacher.getByRole('link', { name: 'Open the dashboard' })).toHaveAttribute('href', /\/teach\/[A-Za-z0-9_-]{43}\/dashboard$/);
    const shown = (await teacher.locator('.join-code').textContent())!.trim();
    expect(shown).toMatch(/^[A-Z0-9]{3}-[A-Z0-9]{3}$/);
    const link = await teacher.getByRole('link', { name: /\/join\/[A-Z0-9]{6}$/ }).getAttribute('href');
    return { code: shown, joinLink: link! };
  });
  const teacherToken = new URL(teacher.url()).pathname.split('/')[2]!;

  const ada = await studentBrowser(browser, baseURL);
  const bob = await studentBrowser(browser, baseURL);
  const cy = await studentBrowser(browser, baseURL);
  const bars = await test.step('students join: Ada and Cy by the link, Bob by typing the code', async () => {
    await ada.page.goto(joinLink);
    await expect(ada.page.getByRole('main')).toContainText('Joining Session cookies, 3rd period.');
    const adaBar = await joinAs(ada.page, 'Ada');
    await bob.page.goto('/join');
    await bob.page.getByLabel('Code').fill(code.toLowerCase().replace('-', ' '));
    const bobBar = await joinAs(bob.page, 'Bob');
    await cy.page.goto(joinLink);
    const cyBar = await joinAs(cy.page, 'Cy');
    for (const student of [ada, bob, cy]) expect(await student.page.content()).not.toContain(teacherToken);
    return { ada: adaBar, bob: bobBar, cy: cyBar };
  });

  await test.step('Ada solves a task; the teacher sees it on the class page', async () => {
    await ada.page.getByRole('button', { name: 'Write', exact: true }).click();
    await expect(ada.page.locator('#task-get-a-cookie')).toHaveClass(/solved/);
    await teacher.reload();
    await expect(teacher.getByRole('row', { name: /Ada/ })).toContainText('1 of 7');
  });

  await test.step('Bob stops following', async () => {
    const toggle = bars.bob.getByRole('button', { name: 'Follow the teacher' });
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await expect(bars.bob).toContainText('own pace');
  });

  await test.step('the teacher sends everyone to a task of lesson 2: Ada and Cy go, Bob stays put', async () => {
    await teacher.getByLabel('Where').selectOption({ label: 'Lesson 2, task: Change the secret and lose the session' });
    await teacher.getByRole('button', { name: 'Send the class there' }).click();
    await expect(teacher.getByRole('status')).toContainText('Sent');
    const there = new RegExp(`/lessons/${SECOND}\\?followed=1#task-change-the-secret$`);
    await expect(ada.page).toHaveURL(there, MOVE);
    await expect(cy.page).toHaveURL(there, MOVE);
    await expect(ada.page.getByRole('region', { name: 'Your class' })).toContainText('you are Ada');
    // Two of Bob's polls answered after Ada and Cy moved: the send was there to see, and he stayed.
    for (let i = 0; i < 2; i++) {
      const answer = await bob.page.waitForResponse((res) => res.url().endsWith('/class/bar'), MOVE);
      expect(answer.headers()['hx-redirect']).toBeUndefined();
    }
    await expect(bob.page).toHaveURL(new RegExp(`/lessons/${FIRST}$`));
    await expect(bars.bob.getByRole('link', { name: /lesson 2, The secret signs/ })).toHaveAttribute('href', `/lessons/${SECOND}#task-change-the-secret`);
  });

  await test.step('a message arrives on every student page', async () => {
    await teacher.getByLabel('Message', { exact: true }).fill('Look at the Set-Cookie header <now>');
    await teacher.getByRole('button', { name: 'Show to the class' }).click();
    await expect(teacher.getByRole('status')).toContainText('Message shown');
    for (const student of [ada, bob, cy]) {
      await expect(student.page.getByRole('region', { name: 'Your class' }).getByRole('status').first()).toContainText('Look at the Set-Cookie header <now>', MOVE);
    }
  });

  await test.step('screenshots: the teacher page and a student page', async () => {
    await teacher.reload();
    await teacher.screenshot({ path: join(SHOTS, 'teacher-page.png'), fullPage: true });
    // The bar is at the top of the page; the move scrolled Ada's page to the task.
    await ada.page.evaluate(() => window.scrollTo(0, 0));
    await ada.page.screenshot({ path: join(SHOTS, 'student-page.png') });
    await ada.page.locator('#task-change-the-secret').scrollIntoViewIfNeeded();
  });

  await test.step('the teacher exports the CSV and reads it', async () => {
    const downloading = teacher.waitForEvent('download');
    await teacher.getByRole('link', { name: 'Download CSV' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`cookie-lab-class-${code.replace('-', '')}-results.csv`);
    const text = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    const rows = text.trim().split('\r\n').map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
    expect(rows[0]).toEqual(['student', 'lesson', 'task', 'solved_at', 'hints_used']);
    // Three students, seven tasks each (lessons 1 and 2), nothing cut off.
    expect(rows.length - 1).toBe(3 * 7);
    const adaSolved = rows.find((row) => row[0] === 'Ada' && row[2] === 'get-a-cookie');
    expect(adaSolved?.[3]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rows.filter((row) => row[3] !== '' && row[0] !== 'student')).toHaveLength(1);
  });

  await test.step('the teacher closes the class: students see it has ended, a late student is refused', async () => {
    await teacher.getByRole('button', { name: 'Close the class' }).click();
    await expect(teacher.getByText('This class is closed.')).toBeVisible();
    for (const student of [ada, bob, cy]) await expect(student.page.getByRole('region', { name: 'Your class' })).toContainText('This class has ended', MOVE);
    const late = await studentBrowser(browser, baseURL);
    allowConsoleErrors(late.page, /status of 410/);
    await late.page.goto(joinLink);
    await expect(late.page.getByRole('alert')).toContainText('has ended');
    await late.page.getByLabel('Your display name').fill('Dee');
    await late.page.getByRole('button', { name: 'Join' }).click();
    await expect(late.page.getByRole('alert')).toContainText('has ended');
    await expect(late.page).toHaveURL(/\/join$/);
    await late.close();
  });

  await test.step('the closed class still shows the results, and its pages are axe-clean', async () => {
    await expect(teacher.getByRole('row', { name: /Ada/ })).toContainText('1 of 7');
    await expectNoSeriousAxeViolations(teacher, 'teacher page');
    await expectNoSeriousAxeViolations(ada.page, 'student page with the class bar');
  });

  for (const student of [ada, bob, cy]) await student.close();
});
