// One test per lesson, generated from the lesson files: a learner solves every task in Chromium by
// clicking and toggling (the lesson's own solution steps, no API shortcuts), and the progress is
// saved and shown. Plus an accessibility check of every lesson page.
import { watchConsole } from './support/console.ts';
import { test, expect, type Page } from '@playwright/test';
import { AxeBuilder } from '@axe-core/playwright';
import { loadLessons } from '../server/lessons/loader.ts';
import { courseFor, labFeatures } from '../server/lessons/features.ts';
import { sendsFromOtherSite, type CrossSiteStep, type RequestStep, type Step } from '../server/lessons/schema.ts';
import { REQUEST_BUTTONS } from '../server/lessons/solution-steps.ts';
import { thirdPartyCookiesAllowed } from './support/third-party.ts';

const sentFromOtherSite = (lesson: (typeof lessons)[number]) => lesson.tasks.some((task) => sendsFromOtherSite(task.solution));

/**
 * The page a lesson is replayed in: Playwright's own, or, for a lesson sent from the second site,
 * one of a Chromium that allows third-party cookies (its last task needs a SameSite=None cookie to
 * travel in the second site's fetch: lessons/11-cors-and-credentials.md says so to the learner).
 */
async function pageFor(lesson: (typeof lessons)[number], page: Page, baseURL: string | undefined): Promise<{ page: Page; close: () => Promise<void> }> {
  if (!sentFromOtherSite(lesson)) return { page, close: async () => {} };
  const { context, close } = await thirdPartyCookiesAllowed(baseURL);
  return { page: context.pages()[0] ?? (await context.newPage()), close };
}

// The course as the app under test offers it: its Redis tasks only when the run gives it Redis
// (playwright.config.ts passes LAB_TEST_REDIS_URL on as REDIS_URL); one instance, always.
const lessons = courseFor(loadLessons('lessons'), labFeatures({ redis: Boolean(process.env.LAB_TEST_REDIS_URL), instanceCount: 1 }));

test.describe('lessons', () => {
  for (const lesson of lessons) {
    test(`learner solves lesson ${lesson.number}: ${lesson.title}`, async ({ page: ownPage, baseURL }) => {
      // A lesson sent from the second site works in two tabs of a browser launched for it: slower.
      if (sentFromOtherSite(lesson)) test.setTimeout(90_000);
      const { page, close } = await pageFor(lesson, ownPage, baseURL);
      const problems = watchConsole(page);
      await page.goto(`/lessons/${lesson.slug}`);
      await expect(page.getByRole('heading', { level: 1, name: lesson.title })).toBeVisible();

      for (const task of lesson.tasks) {
        await test.step(task.title, async () => {
          const card = page.locator(`#task-${task.id}`);
          await expect(card).not.toHaveClass(/solved/);
          for (const step of task.solution) await perform(page, step);
          await expect(card).toHaveClass(/solved/);
          await expect(card.getByText('Why it works')).toBeVisible();
        });
      }

      await test.step('the lesson text, every "why" shown, stays in its column beside the sandbox', async () => {
        await expectLessonTextInItsColumn(page);
      });

      await test.step('progress is saved and shown', async () => {
        await page.goto('/lessons');
        const entry = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: lesson.title, exact: true }) });
        await expect(entry).toContainText(`${lesson.tasks.length} of ${lesson.tasks.length} tasks solved`);
        await page.goto(`/lessons/${lesson.slug}`);
        await expect(page.locator('.task.solved')).toHaveCount(lesson.tasks.length);
      });
      expect(problems).toEqual([]);
      await close();
    });
  }
});

// Every wrong way a lesson lists, tried as a learner would: the earlier tasks solved by their
// solutions, then the wrong way's steps; the task stays open (the page, rendered again once every
// step was answered, checks it against all of them) and says what is missing; the solution then
// still solves it.
test.describe('wrong ways', () => {
  for (const lesson of lessons) {
    for (const [index, task] of lesson.tasks.entries()) {
      for (const wrongWay of task.wrongWays) {
        test(`lesson ${lesson.number}, task "${task.id}": ${wrongWay.name} leaves it open`, async ({ page: ownPage, baseURL }) => {
          if (sentFromOtherSite(lesson)) test.setTimeout(90_000);
          const { page, close } = await pageFor(lesson, ownPage, baseURL);
          const problems = watchConsole(page);
          await page.goto(`/lessons/${lesson.slug}`);
          for (const earlier of lesson.tasks.slice(0, index)) {
            for (const step of earlier.solution) await perform(page, step);
            await expect(page.locator(`#task-${earlier.id}`)).toHaveClass(/solved/);
          }
          for (const step of wrongWay.steps) await perform(page, step);
          await page.reload();
          const card = page.locator(`#task-${task.id}`);
          await expect(card.locator('.check-detail')).toContainText('Expected');
          await expect(card).not.toHaveClass(/solved/);
          for (const step of task.solution) await perform(page, step);
          await expect(card).toHaveClass(/solved/);
          expect(problems).toEqual([]);
          await close();
        });
      }
    }
  }
});

test.describe('accessibility', () => {
  for (const path of ['/', '/lessons', '/progress', '/lab', ...lessons.map((lesson) => `/lessons/${lesson.slug}`)]) {
    test(`${path} has no serious or critical axe violations, and no console error (CSP included)`, async ({ page }) => {
      const problems = watchConsole(page);
      await page.goto(path);
      await expectNoSeriousAxeViolations(page);
      expect(problems).toEqual([]);
    });
  }
});

test.describe('accessibility with content', () => {
  test('the sandbox page after a write and a visit has no serious or critical axe violations', async ({ page }) => {
    const problems = watchConsole(page);
    await page.goto('/lab');
    for (const request of ['write', 'visit'] as const) await perform(page, { request });
    await page.getByRole('button', { name: 'Read document.cookie' }).click();
    await expectNoSeriousAxeViolations(page);
    expect(problems).toEqual([]);
  });
});

/** axe finds nothing serious or critical, in the light and the dark colour scheme. */
async function expectNoSeriousAxeViolations(page: Page): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${scheme}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
  }
}

/** Performs one solution step as a learner would, and waits for the server's answer. */
async function perform(page: Page, step: Step): Promise<void> {
  if ('option' in step) {
    const field = step.option.replace(/^cookie\./, '');
    const control = page.locator(`#opt-${field}`);
    const tag = await control.evaluate((el) => `${el.tagName}:${(el as HTMLInputElement).type}`);
    const wanted = tag === 'INPUT:checkbox' ? step.value === true : step.value === null || (step.value === false && field === 'sameSite') ? '' : String(step.value);
    const current = tag === 'INPUT:checkbox' ? await control.isChecked() : await control.inputValue();
    // Setting a control to the value it has fires no change, so no request: nothing to wait for.
    if (current === wanted) return;
    const answered = page.waitForResponse((r) => r.url().endsWith('/options') && r.request().method() === 'POST');
    if (tag === 'INPUT:checkbox') await control.setChecked(wanted as boolean);
    else if (tag.startsWith('SELECT')) await control.selectOption(wanted as string);
    else {
      await control.fill(wanted as string);
      await control.press(tag.startsWith('TEXTAREA') ? 'Tab' : 'Enter');
    }
    expect((await answered).status()).toBe(200);
    return;
  }
  if ('request' in step) {
    const forms = page.locator('.requests-panel');
    await fillRequestFields(page, step);
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(`/${step.request}`));
    await forms.getByRole('button', { name: REQUEST_BUTTONS[step.request], exact: true }).click();
    await answered;
    return;
  }
  if ('probe' in step) {
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/tasks'));
    await page.getByRole('button', { name: 'Read document.cookie' }).click();
    await refreshed;
    return;
  }
  if ('wait' in step) {
    // Lesson content (a cookie expiring), not synchronisation.
    await page.waitForTimeout(step.wait);
    return;
  }
  if ('crossSite' in step) {
    await sendFromOtherSite(page, step);
    return;
  }
  const [first, ...rest] = step.together;
  if (!first || !('request' in first)) throw new Error('"together" starts with a request');
  // As the lesson says: every field typed first, then the buttons pressed, so the race's window
  // (the first request's delay) is spent on clicks alone.
  await fillRequestFields(page, first);
  for (const other of rest) if ('request' in other) await fillRequestFields(page, other);
  const firstAnswered = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith(`/${first.request}`));
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname.endsWith(`/${first.request}`));
  await page.locator('.requests-panel').getByRole('button', { name: REQUEST_BUTTONS[first.request], exact: true }).click();
  await sent;
  for (const other of rest) await perform(page, 'request' in other ? { request: other.request } : other);
  await firstAnswered;
}

/** The second site's page of each lesson page, opened once from its link, in a tab of the same browser. */
const otherSites = new WeakMap<Page, Page>();

/**
 * Sends one kind from the second site's page, as the learner does in the other tab, then comes back
 * to the lesson's tab, which refreshes its tasks when it gets the focus again.
 */
async function sendFromOtherSite(page: Page, step: CrossSiteStep): Promise<void> {
  let other = otherSites.get(page);
  if (!other) {
    const href = await page.locator('#other-site-link').getAttribute('href');
    other = await page.context().newPage();
    await other.goto(href!);
    otherSites.set(page, other);
  }
  await other.bringToFront();
  const kind = step.crossSite;
  if (kind === 'fetch' || kind === 'fetch-credentials') await other.locator('#forwarded').setChecked(step.forwardedProto === true);
  // Settled when the page has its grid again: a link or form navigates to the sandbox, which sends
  // the page back here; the others ask for the grid once the request is over (a fetch the browser
  // refuses to show the page fails, with no response event, but it has reached the sandbox).
  const navigates = kind === 'link' || kind === 'form';
  const settled = other.waitForResponse((r) => new URL(r.url()).pathname.endsWith(navigates ? '/other-site' : '/cross-site-grid'));
  await other.locator(`#row-${kind} .send`).click();
  await settled;
  await page.bringToFront();
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/tasks'));
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await refreshed;
}

/** Types a request step's fields (Key, Value, Delay) into the request forms. */
async function fillRequestFields(page: Page, step: RequestStep): Promise<void> {
  const forms = page.locator('.requests-panel');
  if (step.key !== undefined) await forms.getByLabel('Key').fill(step.key);
  if (step.value !== undefined) await forms.getByLabel('Value').fill(step.value);
  if (step.ms !== undefined) await forms.getByLabel('Delay (ms)').fill(String(step.ms));
}


/**
 * Nothing in the lesson column (task cards, code, the "why" notes) is wider than the column, so none
 * of it slides under the sandbox beside it, at the desktop width where both columns show.
 */
async function expectLessonTextInItsColumn(page: Page): Promise<void> {
  const { column, sandboxLeft, overflowing } = await page.evaluate(() => {
    const text = document.querySelector('.lesson-text')!.getBoundingClientRect();
    const sandbox = document.querySelector('.lesson-layout .sandbox')!.getBoundingClientRect();
    const overflowing = [...document.querySelectorAll('.lesson-text *')]
      .filter((el) => el.getBoundingClientRect().right > text.right + 1)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className)}` : ''}: "${(el.textContent ?? '').trim().slice(0, 40)}"`);
    return { column: text.right, sandboxLeft: sandbox.left, overflowing };
  });
  expect(column, 'the lesson column ends before the sandbox starts').toBeLessThanOrEqual(sandboxLeft);
  expect(overflowing, 'wider than the lesson column').toEqual([]);
}
