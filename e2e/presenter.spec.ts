// Presenter mode and the demo keys: a teacher puts a lesson or a sandbox on the projector, switches
// to presenter mode (remembered; a URL form to bookmark), and drives the demo from the keyboard.
// The sizes are the ones docs/presenter.md reckons readable from the back of a room at 1920x1080.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, expectNoSeriousAxeViolations, openLesson, openSandbox, recordedExchanges, test } from './support/lab-page.ts';

/** The raw Cookie and Set-Cookie headers: a capital 16′ of arc from 10 m (docs/presenter.md). */
const HEADER_MIN_PX = 42;
/** Their capital letters, measured in the font the browser uses. */
const HEADER_CAP_MIN_PX = 30;
/** Everything else in the inspector: the same 16′ from about 7 m. */
const INSPECTOR_MIN_PX = 28;
const SHOTS = join('test-results', 'presenter');

test.use({ viewport: { width: 1920, height: 1080 } });
test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

test.describe('presenter mode', () => {
  test('teacher switches a sandbox to presenter mode: headers readable from the back, no site chrome, remembered', async ({ page }) => {
    const lab = await openSandbox(page);
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    const html = page.locator('html');
    const siteHeader = page.getByRole('banner');

    await test.step('normal mode: a laptop page, headers at laptop size', async () => {
      await expect(html).not.toHaveClass(/presenting/);
      await expect(siteHeader).toBeVisible();
      expect(await fontSize(lab.setCookie.first())).toBeLessThan(HEADER_MIN_PX);
      await page.screenshot({ path: join(SHOTS, 'sandbox-normal-1920.png') });
    });

    await test.step('m switches presenter mode on', async () => {
      await page.locator('body').press('m');
      await expect(html).toHaveClass(/presenting/);
      await expect(siteHeader).toBeHidden();
      await expect(page.getByRole('link', { name: 'Leave presenter mode' })).toBeVisible();
      await page.screenshot({ path: join(SHOTS, 'sandbox-presenting-1920.png') });
    });

    await test.step('the raw headers and the rest of the inspector are at least the readable sizes', async () => {
      for (const header of [lab.setCookie.first(), lab.requestCookie.first()]) {
        expect(await fontSize(header)).toBeGreaterThanOrEqual(HEADER_MIN_PX);
        expect(await capHeight(header)).toBeGreaterThanOrEqual(HEADER_CAP_MIN_PX);
      }
      const smallest = await smallestText(page, '.inspector-panel');
      expect(smallest.px, `smallest text in the inspector: ${smallest.what}`).toBeGreaterThanOrEqual(INSPECTOR_MIN_PX);
      await expect(lab.setCookie.first()).toBeInViewport();
    });

    await test.step('remembered: a reload opens in presenter mode, right from the first frame', async () => {
      await page.addInitScript(() => {
        requestAnimationFrame(() => ((window as unknown as { firstFrame: boolean }).firstFrame = document.documentElement.classList.contains('presenting')));
      });
      await page.reload();
      await expect(html).toHaveClass(/presenting/);
      expect(await page.evaluate(() => (window as unknown as { firstFrame: boolean }).firstFrame)).toBe(true);
    });

    await test.step('the toggle link switches it off, and that is remembered too', async () => {
      await page.getByRole('link', { name: 'Leave presenter mode' }).click();
      await expect(html).not.toHaveClass(/presenting/);
      await expect(siteHeader).toBeVisible();
      await page.reload();
      await expect(html).not.toHaveClass(/presenting/);
    });
  });

  test('a bookmarked ?present=1 opens a lesson in presenter mode, even without JavaScript', async ({ browser, baseURL }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1920, height: 1080 }, baseURL });
    const page = await context.newPage();
    await page.goto('/lessons/what-a-session-cookie-is?present=1');
    await expect(page.locator('html')).toHaveClass(/presenting/);
    await expect(page.getByRole('banner')).toBeHidden();
    // Without JavaScript the toggle is a plain link to the page in the other mode.
    await page.getByRole('link', { name: 'Leave presenter mode' }).click();
    await expect(page).toHaveURL(/present=0/);
    await expect(page.locator('html')).not.toHaveClass(/presenting/);
    await context.close();
  });

  // One axe run per test: a lesson page at 1920x1080 takes axe several seconds on this machine.
  test('a lesson page at 1920x1080 is axe-clean in normal mode', async ({ page }) => {
    const lab = await openLesson(page, 'what-a-session-cookie-is');
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    await page.screenshot({ path: join(SHOTS, 'lesson-normal-1920.png') });
    await expectNoSeriousAxeViolations(page, 'lesson page');
  });

  test('a lesson page at 1920x1080 in presenter mode: headers readable, axe-clean', async ({ page }) => {
    const lab = await openLesson(page, 'what-a-session-cookie-is');
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    await page.goto(`${new URL(page.url()).pathname}?present=1`);
    await expect(page.locator('html')).toHaveClass(/presenting/);
    await expect(lab.setCookie.first()).toBeVisible();
    expect(await fontSize(lab.setCookie.first())).toBeGreaterThanOrEqual(HEADER_MIN_PX);
    await page.screenshot({ path: join(SHOTS, 'lesson-presenting-1920.png') });
    await expectNoSeriousAxeViolations(page, 'lesson page, presenter mode');
  });

  test('the keys overlay, opened with ?, is axe-clean', async ({ page }) => {
    await openLesson(page, 'what-a-session-cookie-is');
    await page.locator('body').press('?');
    await expect(page.getByRole('dialog', { name: 'Keys for a live demo' })).toBeVisible();
    await expectNoSeriousAxeViolations(page, 'the keys overlay');
  });

  test('a sandbox page is axe-clean in presenter mode', async ({ page }) => {
    const lab = await openSandbox(page);
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    // Normal mode is click-result.spec.ts's (after a write, on each screen size).
    await page.locator('body').press('m');
    await expect(page.locator('html')).toHaveClass(/presenting/);
    await expectNoSeriousAxeViolations(page, 'sandbox page, presenter mode');
  });
});

test.describe('keys for a live demo', () => {
  test('teacher drives a lesson without a mouse: tasks, requests, options, hints, presenter mode, help', async ({ page }) => {
    const lab = await openLesson(page, 'what-a-session-cookie-is');
    const task = (id: string) => page.locator(`#task-${id}`);
    const press = (key: string) => page.locator('body').press(key);
    const status = page.locator('#keys-status');

    await test.step('? opens the list of keys, Esc closes it', async () => {
      await press('?');
      const help = page.getByRole('dialog', { name: 'Keys for a live demo' });
      await expect(help).toBeVisible();
      await expect(help.getByRole('row')).toHaveCount(8);
      await page.keyboard.press('Escape');
      await expect(help).toBeHidden();
    });

    await test.step('n and p move between tasks', async () => {
      await press('n');
      await expect(task('data-stays-in-store')).toHaveAttribute('aria-current', 'step');
      await expect(status).toHaveText(/^Task 2 of 3/);
      await press('n');
      await expect(task('rename-the-cookie')).toHaveAttribute('aria-current', 'step');
      await press('n');
      await expect(task('rename-the-cookie'), 'the last task stays current').toHaveAttribute('aria-current', 'step');
      await press('p');
      await press('p');
      await expect(task('get-a-cookie')).toHaveAttribute('aria-current', 'step');
      await expect(task('rename-the-cookie')).not.toHaveAttribute('aria-current');
    });

    await test.step("r runs the task's request (Write), which solves it", async () => {
      const sent = page.waitForRequest((r) => r.url().endsWith(`${lab.path}/write`));
      await press('r');
      await sent;
      await expect(lab.exchange(1)).toBeVisible();
      await expect(task('get-a-cookie')).toHaveClass(/solved/);
      await expect(task('get-a-cookie'), 'the current task survives the tasks refresh').toHaveAttribute('aria-current', 'step');
    });

    await test.step('h shows the next hint of the current task', async () => {
      await press('n');
      await expect(task('data-stays-in-store').locator('.hints li')).toHaveCount(0);
      await press('h');
      await expect(task('data-stays-in-store').locator('.hints li')).toHaveCount(1);
    });

    await test.step('o sets the option the task is about, and again puts it back', async () => {
      await press('n');
      await expect(task('rename-the-cookie')).toHaveAttribute('aria-current', 'step');
      await optionsApplied(page, () => press('o'));
      await expect(lab.nameInput).toHaveValue('lab_sid');
      expect((await sandboxOptions(page, lab.id)).name).toBe('lab_sid');
      await optionsApplied(page, () => press('o'));
      await expect(lab.nameInput).toHaveValue('mycookie');
      expect((await sandboxOptions(page, lab.id)).name).toBe('mycookie');
      await optionsApplied(page, () => press('o'));
      await press('r');
      await expect(lab.exchange(2)).toBeVisible();
      await expect(lab.setCookie.first()).toContainText('Set-Cookie: lab_sid=');
      await expect(task('rename-the-cookie')).toHaveClass(/solved/);
    });

    await test.step('m switches presenter mode', async () => {
      await press('m');
      await expect(page.locator('html')).toHaveClass(/presenting/);
      await press('m');
      await expect(page.locator('html')).not.toHaveClass(/presenting/);
    });
  });

  test('keys never fire while typing in a field, or with Ctrl, Alt or Meta held', async ({ page }) => {
    const lab = await openLesson(page, 'what-a-session-cookie-is');
    // The page's own refreshes (the jar) settle first; then nothing may be sent.
    await expect(lab.jar).not.toHaveText(/Asking your browser/);
    const sent: string[] = [];
    page.on('request', (request) => sent.push(request.url()));

    await lab.keyInput.fill('');
    await lab.keyInput.pressSequentially('nproh?m');
    await expect(lab.keyInput).toHaveValue('nproh?m');
    await lab.nameInput.click();
    await lab.nameInput.press('End');
    await lab.nameInput.pressSequentially('r');
    await expect(lab.nameInput).toHaveValue('mycookier');
    await page.locator('#opt-secret').click();
    await page.locator('#opt-secret').press('End');
    await page.locator('#opt-secret').pressSequentially('o');
    // Out of the fields (a click on the lesson's text), then keys with modifiers.
    await page.locator('#lesson-title').click();
    await expect(page.locator('#opt-secret')).not.toBeFocused();
    for (const key of ['Alt+r', 'Control+m', 'Meta+n', 'Shift+N']) await page.keyboard.press(key);

    await expect(page.getByRole('dialog')).toBeHidden();
    await expect(page.locator('html')).not.toHaveClass(/presenting/);
    await expect(page.locator('[aria-current="step"]')).toHaveCount(0);
    await expect(page.locator('#keys-status')).toHaveText('');
    // (Leaving the edited option fields applies them, as the form always does: not the keys' doing.)
    expect(sent.filter((url) => /\/(write|visit|slow|probe|hints)$/.test(new URL(url).pathname)), 'requests sent by the keys').toEqual([]);
    await expect(page.locator('#opt-secret'), 'o typed into the secret did not set a task option').toHaveValue('cookiesaregoodo');
    await expect(lab.nameInput).toHaveValue('mycookier');
    expect(await recordedExchanges(page, lab.id)).toEqual([]);
  });

  test('r on a sandbox without a task runs Visit', async ({ page }) => {
    const lab = await openSandbox(page);
    await page.locator('body').press('r');
    await expect(lab.exchange(1)).toBeVisible();
    expect((await recordedExchanges(page, lab.id)).map((e) => e.action)).toEqual(['visit']);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function fontSize(locator: import('@playwright/test').Locator): Promise<number> {
  return locator.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
}

/** The height of a capital H in the element's own font, as the browser draws it. */
async function capHeight(locator: import('@playwright/test').Locator): Promise<number> {
  return locator.evaluate((el) => {
    const style = getComputedStyle(el);
    const context = document.createElement('canvas').getContext('2d')!;
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    return context.measureText('H').actualBoundingBoxAscent;
  });
}

/** The smallest font size of any visible text under `selector`, and where it is. */
async function smallestText(page: Page, selector: string): Promise<{ px: number; what: string }> {
  return page.locator(selector).evaluate((root) => {
    let smallest = { px: Infinity, what: '' };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement!;
      if (!node.textContent!.trim() || el.closest('.visually-hidden') || !el.checkVisibility()) continue;
      const px = parseFloat(getComputedStyle(el).fontSize);
      if (px < smallest.px) smallest = { px, what: `${el.tagName.toLowerCase()}.${el.className}: "${node.textContent!.trim().slice(0, 40)}"` };
    }
    return smallest;
  });
}

/** Runs `action` and waits until the options form's change it makes has been answered. */
async function optionsApplied(page: Page, action: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().endsWith('/options') && r.request().method() === 'POST');
  await action();
  expect((await answered).status()).toBe(200);
}

async function sandboxOptions(page: Page, id: string): Promise<{ name: string }> {
  const answer = await page.request.get(`/api/sandboxes/${id}/options`);
  expect(answer.status()).toBe(200);
  return (await answer.json()) as { name: string };
}
