// A learner's progress in Chromium: solve a task by clicking, download the export from /progress,
// reset, then import the downloaded file through the file input (the page copies it into the JSON
// field) and see the task solved again. Any console error fails the test.
import { test, expect, type Page } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import { watchConsole } from './support/console.ts';

const LESSON = { slug: 'what-a-session-cookie-is', title: 'What a session cookie is', tasks: 3 };

test('a learner exports, resets and re-imports their progress', async ({ page }, testInfo) => {
  const problems = watchConsole(page);

  await test.step('solve lesson 1\'s first task by clicking Write', async () => {
    await page.goto(`/lessons/${LESSON.slug}`);
    await expect(page.getByRole('heading', { level: 1, name: LESSON.title })).toBeVisible();
    await expect(page.getByRole('heading', { name: /Get a session cookie \(not solved yet\)/ })).toBeVisible();
    await page.getByRole('button', { name: 'Write', exact: true }).click();
    await expect(page.getByRole('heading', { name: /Get a session cookie \(solved\)/ })).toBeVisible();
    await expect(page.getByText('Solved. Why it works:')).toBeVisible();
  });

  await test.step('see it on /progress', async () => {
    await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Progress' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Your progress' })).toBeVisible();
    await expect(lessonEntry(page)).toContainText(`1 of ${LESSON.tasks} tasks solved`);
  });

  const file = testInfo.outputPath('cookie-lab-progress.json');
  await test.step('download the export', async () => {
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download your progress (JSON)' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('cookie-lab-progress.json');
    await download.saveAs(file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      format: 'cookie-lab-progress',
      version: 1,
      lessons: { [LESSON.slug]: { solved: ['get-a-cookie'], hints: {} } },
    });
  });

  await test.step('reset: 0 solved', async () => {
    await page.getByRole('button', { name: 'Reset my progress' }).click();
    await expect(page).toHaveURL(/\/progress$/);
    await expect(lessonEntry(page)).toContainText(`0 of ${LESSON.tasks} tasks solved`);
  });

  await test.step('import the downloaded file through the file input', async () => {
    await page.getByLabel('A progress file').setInputFiles(file);
    // The page's script reads the file into the JSON field, which the form posts.
    await expect(page.getByLabel('Or its JSON')).toHaveValue(/"format":"cookie-lab-progress"/);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Imported: 1 solved task(s) merged into your progress.');
    await expect(lessonEntry(page)).toContainText(`1 of ${LESSON.tasks} tasks solved`);
  });

  await test.step('the task is solved again on /lessons', async () => {
    await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Lessons' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'The course' })).toBeVisible();
    await expect(lessonEntry(page)).toContainText(`1 of ${LESSON.tasks} tasks solved`);
  });

  expect(problems).toEqual([]);
});

test('a file that is not a progress export is refused with the reason, and nothing changes', async ({ page }, testInfo) => {
  const problems = watchConsole(page);
  const file = testInfo.outputPath('not-progress.json');
  await writeFile(file, JSON.stringify({ format: 'something-else', version: 1, lessons: {} }));

  await page.goto('/progress');
  await page.getByLabel('A progress file').setInputFiles(file);
  await expect(page.getByLabel('Or its JSON')).toHaveValue(/something-else/);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Nothing imported: the file is not a Cookie Lab progress export (its "format" is not "cookie-lab-progress").');
  await expect(lessonEntry(page)).toContainText(`0 of ${LESSON.tasks} tasks solved`);
  // The refused import's page is answered with a deliberate 400, which Chromium logs; nothing else.
  expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
  expect(problems.length).toBeLessThanOrEqual(1);
});

/** The list item for lesson 1, on /progress or /lessons. */
function lessonEntry(page: Page) {
  return page.getByRole('listitem').filter({ has: page.getByRole('link', { name: LESSON.title, exact: true }) });
}
