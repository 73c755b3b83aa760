// Share links: a teacher (or a learner) copies a link to their sandbox's options; whoever opens it,
// in their own browser, gets a fresh sandbox of their own with those options, never the sender's
// sandbox or its sessions. The secret travels only when the sender ticks it, and then only after
// '#', which no browser sends to a server. A link with bad options opens with the errors shown.
import type { Browser, Page } from '@playwright/test';
import { allowConsoleErrors, expect, openLesson, openSandbox, recordedExchanges, test, watchConsole, consoleProblems } from './support/lab-page.ts';

const SECRET = 'teacher-only-secret-42';

test.describe('share links', () => {
  test('receiver gets a fresh sandbox of their own with the same options, and no secret unless it is chosen', async ({ page, browser }) => {
    const sender = await openSandbox(page);
    await test.step('sender configures the sandbox and starts a session in it', async () => {
      await page.getByLabel('name', { exact: true }).fill('class_sid');
      await page.getByLabel('cookie.httpOnly').uncheck();
      await page.getByLabel('cookie.sameSite').selectOption('lax');
      await page.locator('#opt-secret').fill(SECRET);
      await page.locator('#opt-secret').blur();
      await expect.poll(async () => (await options(page, sender.id)).secret).toEqual([SECRET]);
      await sender.write.click();
      await expect(sender.exchange(1)).toBeVisible();
    });
    const senderOptions = await options(page, sender.id);
    expect(senderOptions).toMatchObject({ name: 'class_sid', cookie: { httpOnly: false, sameSite: 'lax' } });

    const shareUrl = page.getByLabel('Link to share');
    const link = await test.step('sender copies the link: it names the options and not the secret', async () => {
      await page.getByRole('button', { name: 'Copy link' }).click();
      await expect(page.locator('#share-status')).toHaveText(/Copied|Selected/);
      const url = await shareUrl.inputValue();
      expect(url).toContain('name=class_sid');
      expect(url).not.toContain(SECRET);
      expect(url).not.toContain('#');
      expect(new URL(url).pathname).toBe('/lab');
      return url;
    });

    await test.step('receiver opens it in another browser: a different sandbox, the same options, the article secret, no session', async () => {
      const { page: receiver, seen, close } = await openAsReceiver(browser, link);
      const id = sandboxId(receiver);
      expect(id).not.toBe(sender.id);
      const got = await options(receiver, id);
      expect(got).toEqual({ ...senderOptions, secret: ['cookiesaregood'] });
      expect(await recordedExchanges(receiver, id)).toEqual([]);
      await receiver.getByRole('button', { name: 'Visit', exact: true }).click();
      await expect(receiver.locator('#inspector pre.request-cookie')).toHaveText(/no Cookie header/);
      await expect(receiver.locator('#inspector pre.set-cookie')).toHaveText('(no Set-Cookie header)');
      expect(seen.join('\n')).not.toContain(SECRET);
      await close();
    });

    const withSecret = await test.step('ticking "Include the secret" puts it after #, and only there', async () => {
      await page.getByLabel('Include the secret').check();
      const url = new URL(await shareUrl.inputValue());
      expect(url.search).not.toContain(SECRET);
      expect(new URLSearchParams(url.hash.slice(1)).get('secret')).toBe(SECRET);
      return url.href;
    });

    await test.step("receiver's sandbox takes the secret through its options form; the server never sees it in a URL", async () => {
      const { page: receiver, seen, close } = await openAsReceiver(browser, withSecret);
      const id = sandboxId(receiver);
      await expect.poll(async () => (await options(receiver, id)).secret).toEqual([SECRET]);
      await expect(receiver.locator('#opt-secret')).toHaveValue(SECRET);
      expect(new URL(receiver.url()).hash, 'the secret leaves the address bar').toBe('');
      expect(seen.filter((url) => url.includes(SECRET)), 'request URLs that carry the secret').toEqual([]);
      expect(id).not.toBe(sender.id);
      await close();
    });
  });

  test('a link from a lesson can carry the current task, which the receiver sees above their sandbox', async ({ page, browser }) => {
    await openLesson(page, 'what-a-session-cookie-is');
    await page.locator('body').press('n');
    await page.locator('body').press('n');
    await page.getByLabel('With the task "Rename the cookie"').check();
    const link = await page.getByLabel('Link to share').inputValue();
    expect(new URL(link).searchParams.get('task')).toBe('rename-the-cookie');

    const { page: receiver, close } = await openAsReceiver(browser, link);
    const task = receiver.getByRole('region', { name: 'Rename the cookie' });
    await expect(task).toBeVisible();
    await expect(task.getByRole('link', { name: 'What a session cookie is' })).toHaveAttribute('href', '/lessons/what-a-session-cookie-is#task-rename-the-cookie');
    // The demo keys work on it: o sets the task's option in the receiver's own sandbox.
    await receiver.locator('body').press('o');
    await expect.poll(async () => (await options(receiver, sandboxId(receiver))).name).toBe('lab_sid');
    await close();
  });

  test('a link with bad options opens with each error beside its field, status 400, and a sandbox to fix them in', async ({ page }) => {
    allowConsoleErrors(page, /status of 400 \(Bad Request\)/);
    const answer = await page.goto('/lab?name=has%20space&maxAge=soon&rolling=maybe&sameSite=lax');
    expect(answer!.status()).toBe(400);
    await expect(page.getByRole('alert')).toContainText("This link's options were not all applied");
    const field = (label: string) => page.locator('#options-form .field').filter({ has: page.getByLabel(label, { exact: true }) });
    await expect(field('name').locator('.field-error')).toContainText('name may use only letters');
    await expect(page.getByLabel('name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(field('cookie.maxAge (ms)').locator('.field-error')).toContainText('cookie.maxAge must be a whole number');
    await expect(field('rolling').locator('.field-error')).toContainText('rolling in a link must be true or false');
    await expect(page.getByLabel('cookie.sameSite')).toHaveValue('lax');

    // The valid part is applied; fixing the fields applies them in the receiver's sandbox.
    const id = (await page.locator('.sandbox').getAttribute('data-sandbox-path'))!.split('/').pop()!;
    expect((await options(page, id)).cookie).toMatchObject({ sameSite: 'lax' });
    await page.getByLabel('name', { exact: true }).fill('fixed_sid');
    await page.getByLabel('cookie.maxAge (ms)').fill('60000');
    await page.getByLabel('rolling').check();
    await expect.poll(async () => options(page, id)).toMatchObject({ name: 'fixed_sid', rolling: true, cookie: { maxAge: 60000, sameSite: 'lax' } });
    await expect(page.locator('.field-error')).toHaveCount(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** Opens `link` in a browser context of its own (another person's browser); records every request URL. */
async function openAsReceiver(browser: Browser, link: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await watchConsole(page);
  const seen: string[] = [];
  page.on('request', (request) => seen.push(request.url()));
  await page.goto(link);
  await expect(page).toHaveURL(/\/sandbox\/[A-Za-z0-9_-]+/);
  await expect(page.getByRole('heading', { name: 'Options', exact: true })).toBeVisible();
  return {
    page,
    seen,
    close: async () => {
      expect(consoleProblems(page), "receiver's console").toEqual([]);
      await context.close();
    },
  };
}

function sandboxId(page: Page): string {
  return new URL(page.url()).pathname.split('/').pop()!;
}

async function options(page: Page, id: string) {
  const answer = await page.request.get(`/api/sandboxes/${id}/options`);
  expect(answer.status()).toBe(200);
  return (await answer.json()) as { name: string; secret: string[]; rolling: boolean; cookie: Record<string, unknown> };
}
