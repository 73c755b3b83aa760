// Issue 12, the lesson page's own tools, as a learner uses them at a laptop's and a phone's size:
// the count of tasks solved and the way to the next lesson, the solution after the last hint,
// "Reset this lesson" (tasks open again, options back, the sandbox's cookies gone from Chromium),
// and the code panel's copy button.
import { expect, test, COOKIE_NAME, SCREENS, findCookie, openLesson } from './support/lab-page.ts';

const SLUG = 'what-a-session-cookie-is';

for (const screen of SCREENS) {
  test.describe(`on a ${screen.name} (${screen.width}x${screen.height})`, () => {
    test.use({ viewport: { width: screen.width, height: screen.height } });

    test('learner solves a task, renames the cookie, resets the lesson: tasks open, options back, cookies gone', async ({ page, context }) => {
      const lab = await openLesson(page, SLUG);
      const progress = page.locator('.task-progress');
      await expect(progress).toHaveText('0 of 3 tasks solved');
      await lab.write.click();
      await expect(progress).toHaveText('1 of 3 tasks solved');
      await lab.nameInput.fill('lab_sid');
      await lab.nameInput.press('Tab');
      await expect(lab.codeView).toContainText('name: "lab_sid"');
      await lab.write.click();
      await expect(lab.exchange(2)).toBeVisible();
      expect(await findCookie(context, 'lab_sid'), 'Chromium holds the renamed cookie').toBeDefined();
      expect(await findCookie(context, COOKIE_NAME)).toBeDefined();

      await page.getByRole('button', { name: 'Reset this lesson' }).click();
      await expect(page.locator('.reset-note')).toContainText('Cleared from your browser: ');
      await expect(page.locator('.reset-note')).toContainText('lab_sid (Path=/sandbox/');
      await expect(page.locator('.reset-note'), 'what the click did, without scrolling').toBeInViewport();
      await expect(progress).toHaveText('0 of 3 tasks solved');
      await expect(lab.nameInput).toHaveValue(COOKIE_NAME);
      expect(await findCookie(context, 'lab_sid'), 'the renamed cookie is gone from Chromium').toBeUndefined();
      expect(await findCookie(context, COOKIE_NAME), 'and so is the first one').toBeUndefined();

      // Redone as written, the first task solves again.
      await lab.write.click();
      await expect(progress).toHaveText('1 of 3 tasks solved');
    });

    test('learner opens every hint of a task, then its solution step by step', async ({ page }) => {
      await openLesson(page, SLUG);
      const task = page.locator('#task-get-a-cookie');
      const solution = task.getByText('Show the solution, step by step');
      await expect(solution).toHaveCount(0);
      for (;;) {
        const hint = task.getByRole('button', { name: /^Show a hint/ });
        if ((await hint.count()) === 0) break;
        const label = await hint.textContent();
        await hint.click();
        await expect(task.getByRole('button', { name: label!.trim() })).toHaveCount(0);
      }
      await solution.click();
      await expect(task.locator('details.solution li')).toHaveText(['Press Write with key "user" and value "ada".']);
    });

    test('learner copies the app from the code panel and gets exactly the code shown', async ({ page, context }) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      const lab = await openLesson(page, SLUG);
      await lab.codeView.getByRole('button', { name: 'Copy app.mjs' }).click();
      await expect(lab.codeView.locator('.copy-status').first()).toHaveText('Copied.');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toBe(await page.locator('#code-esm').textContent());
      expect(copied).toContain("import session from 'express-session';");
    });
  });
}

test('learner who solves every task of a lesson is shown the way to the next one', async ({ page }) => {
  const lab = await openLesson(page, SLUG);
  await lab.write.click();
  await expect(page.locator('.task-progress')).toHaveText('1 of 3 tasks solved');
  await lab.visit.click();
  await expect(page.locator('.task-progress')).toHaveText('2 of 3 tasks solved');
  await lab.nameInput.fill('lab_sid');
  await lab.nameInput.press('Tab');
  await expect(lab.codeView).toContainText('name: "lab_sid"');
  await lab.write.click();
  await expect(page.locator('.task-progress')).toHaveText('3 of 3 tasks solved');
  const done = page.locator('.lesson-done');
  await expect(done).toContainText('Every task of this lesson is solved. Next:');
  await done.getByRole('link').click();
  await expect(page).toHaveURL(/\/lessons\/the-secret-signs$/);
});
