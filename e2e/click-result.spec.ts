// Issue 12, "see what your click did, where you clicked": a learner clicks a request button and,
// without scrolling, sees what the click caused. On a laptop (1280x800) the inspector sits beside
// the buttons and sticks there: the Set-Cookie, what the browser did with it and the store calls are
// on screen after every click. On a phone (390x844) the result line under the buttons is, and it
// leads to the full inspector. A task the click solved is named beside the buttons, once, to a
// screen reader too. Every story runs at both sizes, and fails on any console error or CSP violation.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, SCREENS, expectOnScreen, expectNoSeriousAxeViolations, jarVerdictFor, openLesson, openSandbox, type Lab, type Screen } from './support/lab-page.ts';

const SCREENSHOT_DIR = join('test-results', 'screenshots');

/** After a click that made exchange `n`: what it caused is on screen, as this screen shows it. */
async function expectResultOnScreen(lab: Lab, screen: Screen, n: number, what: string): Promise<void> {
  await expect(lab.exchange(n)).toBeVisible();
  // The result line says what the browser did once the jar has asked it.
  await expect(lab.summary).toContainText(new RegExp(`^#${n} .*your browser`));
  if (screen.name === 'desktop') {
    await jarVerdictFor(lab, n);
    await expectOnScreen(lab.setCookie.first(), `${what}: the Set-Cookie (or its absence)`);
    await expectOnScreen(lab.jar.locator('.jar-words'), `${what}: what the browser did`);
    await expectOnScreen(lab.storeCalls, `${what}: the store calls`);
  } else {
    await expectOnScreen(lab.summary, `${what}: the result line under the buttons`);
  }
}

for (const screen of SCREENS) {
  test.describe(`on a ${screen.name} (${screen.width}x${screen.height})`, () => {
    test.use({ viewport: { width: screen.width, height: screen.height } });

    test('learner clicks each request button in the sandbox and sees what it caused without scrolling', async ({ page }) => {
      const lab = await openSandbox(page);

      await test.step('write: a Set-Cookie, store.set, and the browser stored it', async () => {
        await lab.write.click();
        await expectResultOnScreen(lab, screen, 1, 'write');
        await expect(lab.summary).toHaveText(/^#1 POST write → 200: Set-Cookie sent · store\.set · your browser stored it · details/);
        await expect(lab.setCookie).toContainText('Set-Cookie: mycookie=');
        await page.screenshot({ path: shot(`click-write-${screen.name}.png`) });
      });

      await test.step('visit: no Set-Cookie, store.get, and the browser kept what it had', async () => {
        await lab.visit.click();
        await expectResultOnScreen(lab, screen, 2, 'visit');
        await expect(lab.summary).toContainText('no Set-Cookie · store.get, store.touch · your browser kept what it had');
      });

      await test.step('regenerate: a new cookie replaces the old one', async () => {
        await lab.regenerate.click();
        await expectResultOnScreen(lab, screen, 3, 'regenerate');
        await expect(lab.summary).toContainText('your browser replaced its cookie');
      });

      await test.step('the slow visit: its waiting note, then its result, where the learner clicked', async () => {
        await lab.delayInput.fill('300');
        await lab.slow.click();
        await expectResultOnScreen(lab, screen, 4, 'slow visit');
      });

      await test.step('Clear my cookie: its note, under the buttons, on screen', async () => {
        await lab.clearCookie.click();
        await expect(lab.requestStatus).toContainText('Sent an expired Set-Cookie for: mycookie');
        await expectOnScreen(lab.requestStatus, 'the note of Clear my cookie');
        await expect(lab.jar).toHaveAttribute('data-verdict', 'deleted');
        if (screen.name === 'desktop') await expectOnScreen(lab.jar.locator('.jar-words'), 'what the browser did after the clearing');
      });

      await test.step('one live region speaks for a click: the inspector is not one', async () => {
        await expect(lab.inspector).not.toHaveAttribute('aria-live', /.*/);
        await expect(lab.requestStatus).toHaveAttribute('aria-live', 'polite');
        await expect(lab.inspectorPanel.locator('[aria-live]')).toHaveCount(0);
      });
    });

    test('learner solves a lesson task with a click and is told so beside the buttons', async ({ page }) => {
      const lab = await openLesson(page, 'what-a-session-cookie-is');
      const card = (id: string) => page.locator(`#task-${id}`);

      await test.step('write: the first task is solved, named beside the buttons, in a status region', async () => {
        await lab.write.click();
        await expectResultOnScreen(lab, screen, 1, 'write on the lesson page');
        await expect(card('get-a-cookie')).toHaveClass(/solved/);
        await expect(lab.taskNotice).toHaveText('✔ Task solved: Get a session cookie (1 of 3 solved).');
        await expectOnScreen(lab.taskNotice, 'the notice of the solved task');
        await page.screenshot({ path: shot(`lesson-solved-${screen.name}.png`) });
      });

      await test.step('the tasks panel does not announce it a second time', async () => {
        await expect(page.locator('#tasks')).not.toHaveAttribute('aria-live', /.*/);
        await expect(page.locator('#tasks [role="status"], #tasks .task-progress[aria-live]')).toHaveCount(0);
      });

      await test.step('the notice leads to the task: its card comes into view', async () => {
        await lab.taskNotice.getByRole('link', { name: 'Get a session cookie' }).click();
        await expect(card('get-a-cookie')).toBeInViewport();
        await expect(card('get-a-cookie').getByText('Why it works')).toBeVisible();
      });

      await test.step('visit: the notice is about this click now', async () => {
        await lab.visit.click();
        await expectResultOnScreen(lab, screen, 2, 'visit on the lesson page');
        await expect(lab.taskNotice).toHaveText('✔ Task solved: See that the data stays on the server (2 of 3 solved).');
        await expectOnScreen(lab.taskNotice, 'the notice of the second task');
      });

      await test.step('a click that solves nothing empties the notice', async () => {
        await lab.visit.click();
        await expectResultOnScreen(lab, screen, 3, 'a second visit');
        await expect(lab.taskNotice).toBeEmpty();
      });

      await test.step('rename the cookie and write, without pressing Enter: the last task, and the lesson done', async () => {
        await lab.nameInput.fill('lab_sid');
        await lab.write.click();
        await expectResultOnScreen(lab, screen, 4, 'write under the new name');
        await expect(lab.taskNotice).toContainText('Task solved: Rename the cookie (3 of 3 solved). Every task of this lesson is solved. Next: The secret signs');
        await expectOnScreen(lab.taskNotice, 'the notice of the last task');
        await expect(card('rename-the-cookie')).toHaveClass(/solved/);
      });
    });

    test('learner follows the result line to the full inspector', async ({ page }) => {
      const lab = await openSandbox(page);
      await lab.write.click();
      await expect(lab.summary).toContainText('your browser stored it');
      await lab.summary.getByRole('link', { name: 'details in the inspector' }).click();
      await expect(page.getByRole('heading', { name: 'Inspector: the latest exchange' })).toBeInViewport();
      await expect(lab.exchange(1)).toBeInViewport();
    });

    test('the sandbox with results in it has no serious axe violations, light and dark', async ({ page }) => {
      const lab = await openSandbox(page);
      await lab.write.click();
      await expect(lab.summary).toContainText('your browser stored it');
      await lab.readProbe.click();
      await expect(lab.probe).toHaveText('(empty: page JavaScript sees no cookie)');
      await expectNoSeriousAxeViolations(page, `sandbox after a write, ${screen.name}`);
      await lab.clearCookie.click();
      await expect(lab.jar).toHaveAttribute('data-verdict', 'deleted');
      await expectNoSeriousAxeViolations(page, `sandbox after Clear my cookie, ${screen.name}`);
    });

    test('a lesson page with a solved task named beside the buttons has no serious axe violations, light and dark', async ({ page }) => {
      const lesson = await openLesson(page, 'what-a-session-cookie-is');
      await lesson.write.click();
      await expect(lesson.taskNotice).toContainText('Task solved');
      await expectNoSeriousAxeViolations(page, `lesson with a solved task, ${screen.name}`);
    });
  });
}

function shot(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, name);
}
