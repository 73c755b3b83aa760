// Issue 13, the observed jar: "What your browser did" says what Chromium really did with the latest
// Set-Cookie, and it agrees with what Chromium holds (context.cookies()): a cookie stored, one
// refused (a Domain that does not cover the host), one cleared by "Clear my cookie". What page
// JavaScript saw is read once and both shown and recorded. Each story at a laptop's and a phone's size.
import { expect, test, COOKIE_NAME, SCREENS, findCookie, jarVerdictFor, openSandbox } from './support/lab-page.ts';

for (const screen of SCREENS) {
  test.describe(`on a ${screen.name} (${screen.width}x${screen.height})`, () => {
    test.use({ viewport: { width: screen.width, height: screen.height } });

    test('learner writes and the jar says the browser stored the cookie Chromium holds', async ({ page, context }) => {
      const lab = await openSandbox(page);
      await expect(lab.jar).toHaveAttribute('data-verdict', 'no-exchange');
      await lab.write.click();
      expect(await jarVerdictFor(lab, 1)).toBe('stored');
      const held = await findCookie(context, COOKIE_NAME);
      expect(held, 'Chromium holds the cookie').toBeDefined();
      await expect(lab.jar.locator('.jar-cookie')).toContainText(`${COOKIE_NAME}=${held!.value}`);
      await expect(lab.jar.locator('.jar-words')).toContainText(`Your browser stored the cookie exchange #1 set, and now sends ${COOKIE_NAME}=${held!.value}`);
      await expect(lab.summary).toContainText('your browser stored it');

      await test.step('renaming the cookie afterwards leaves the result line of that write as it was', async () => {
        const jarAgain = page.waitForResponse((r) => r.url().endsWith(`${lab.path}/jar`));
        await lab.nameInput.fill('renamed_sid');
        await lab.nameInput.press('Tab');
        await expect(lab.codeView).toContainText('name: "renamed_sid"');
        await jarAgain;
        // The jar's answer has been swapped in: still about exchange #1, so about the cookie it set…
        await expect(lab.jar.locator('.jar-words')).toContainText(`Your browser stored the cookie exchange #1 set, and now sends ${COOKIE_NAME}=${held!.value}`);
        // …and it left the line about exchange #1 alone.
        await expect(lab.summary).toContainText('#1 POST write → 200: Set-Cookie sent · store.set · your browser stored it');
      });
    });

    test('learner sets cookie.domain to example.com and the jar says the browser refused it, as Chromium did', async ({ page, context }) => {
      const lab = await openSandbox(page);
      const domain = page.getByLabel('cookie.domain');
      await domain.fill('example.com');
      await domain.press('Tab');
      await expect(lab.codeView).toContainText('domain: "example.com"');
      await lab.write.click();
      await expect(lab.setCookie).toContainText('Domain=example.com');
      expect(await jarVerdictFor(lab, 1)).toBe('refused');
      expect(await findCookie(context, COOKIE_NAME), 'Chromium holds no cookie').toBeUndefined();
      await expect(lab.jar.locator('.jar-words')).toContainText('Your browser refused the cookie exchange #1 set');
      await expect(lab.summary).toContainText('your browser refused it');
    });

    test('learner presses Clear my cookie and the cookie is gone from Chromium, as the jar says', async ({ page, context }) => {
      const lab = await openSandbox(page);
      await lab.write.click();
      expect(await jarVerdictFor(lab, 1)).toBe('stored');
      expect(await findCookie(context, COOKIE_NAME)).toBeDefined();

      await lab.clearCookie.click();
      await expect(lab.requestStatus).toContainText(`Sent an expired Set-Cookie for: ${COOKIE_NAME} (Path=${lab.path}, this host only)`);
      await expect(lab.jar).toHaveAttribute('data-verdict', 'deleted');
      await expect(lab.jar.locator('.jar-words')).toContainText(`You cleared the sandbox's cookies after exchange #1: your browser deleted them and now sends no ${COOKIE_NAME} cookie.`);
      expect(await findCookie(context, COOKIE_NAME), 'Chromium no longer holds the cookie').toBeUndefined();

      await lab.visit.click();
      await expect(lab.requestCookie).toContainText('(no Cookie header');
      expect(await jarVerdictFor(lab, 2)).toBe('unchanged');
    });

    test('learner turns httpOnly off: the probe shows what the jar recorded page JavaScript saw', async ({ page, context }) => {
      const lab = await openSandbox(page);
      await page.getByLabel('cookie.httpOnly').uncheck();
      await expect(lab.codeView).toContainText('httpOnly: false');
      const jarAsked = page.waitForRequest((request) => request.url().endsWith(`${lab.path}/jar`) && request.headers()['x-document-cookie']?.includes(COOKIE_NAME) === true);
      await lab.write.click();
      const sent = decodeURIComponent((await jarAsked).headers()['x-document-cookie']!);
      const held = await findCookie(context, COOKIE_NAME);
      expect(sent).toBe(`${COOKIE_NAME}=${held!.value}`);
      await expect(lab.probe, 'the probe box shows the reading the jar sent').toHaveText(sent);
      await expect(lab.jar.locator('.jar-document-cookie')).toHaveText(`document.cookie: ${sent}`);

      await test.step('the Read button still reads and reports it', async () => {
        const reported = page.waitForResponse((r) => r.url().endsWith(`${lab.path}/probe`));
        await lab.readProbe.click();
        const answer = await reported;
        expect(answer.status()).toBe(204);
        expect(answer.request().postData()).toBe(`documentCookie=${encodeURIComponent(sent)}`);
        await expect(lab.probe).toHaveText(sent);
      });
    });
  });
}
