// A request always runs with the options the learner sees. The options form applies a change on
// `change`, which fires as the learner leaves the field, often by clicking a request button: the
// request must wait for that change to be applied. Typing a name and clicking Write, without
// pressing Enter, again and again: every exchange ran with the name typed just before it, and the
// inspector says what changed since the exchange before.
import { expect, test, SCREENS, openSandbox, recordedExchanges } from './support/lab-page.ts';

const NAMES = ['lab_sid', 'second.sid', 'third_sid', 'lab_sid', 'fifth-sid', 'mycookie'];

for (const screen of SCREENS) {
  test.describe(`on a ${screen.name} (${screen.width}x${screen.height})`, () => {
    test.use({ viewport: { width: screen.width, height: screen.height } });

    test('learner types a cookie name and clicks Write at once, again and again: each Write runs with the name typed', async ({ page }) => {
      const lab = await openSandbox(page);
      let previous = 'mycookie';
      for (const [i, name] of NAMES.entries()) {
        const n = i + 1;
        await test.step(`type ${name} and click Write`, async () => {
          // A new value each time, so the session is modified and the cookie is sent again.
          await lab.valueInput.fill(`value ${n}`);
          await lab.nameInput.fill(name);
          await lab.write.click();
          await expect(lab.exchange(n)).toBeVisible();
          await expect(lab.ranWith).toContainText(`name: ${name},`);
          if (n === 1) await expect(lab.optionsChanged, 'nothing before the first exchange to compare with').toHaveCount(0);
          else if (name === previous) await expect(lab.optionsChanged).toHaveText(`Same options as #${n - 1}.`);
          else await expect(lab.optionsChanged).toHaveText(`Changed since #${n - 1}: name ${previous} → ${name}`);
          await expect(lab.setCookie).toContainText(`Set-Cookie: ${name}=`);
          previous = name;
        });
      }
      const ran = (await recordedExchanges(page, lab.id)).map((exchange) => exchange.options.name);
      expect(ran, "each exchange's options.name, as the server recorded it").toEqual(NAMES);
    });

    test('the Write waits for a change that is slow to be applied, and runs with it', async ({ page }) => {
      const lab = await openSandbox(page);
      const order: string[] = [];
      page.on('request', (request) => {
        const path = new URL(request.url()).pathname;
        if (path.endsWith('/options') || path.endsWith('/write')) order.push(`sent ${path.split('/').pop()}`);
      });
      page.on('requestfinished', (request) => {
        if (new URL(request.url()).pathname.endsWith('/options')) order.push('answered options');
      });
      // The options answer is held until the click is over, as a slow server would hold it.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      await page.route(`**${lab.path}/options`, async (route) => {
        await released;
        await route.continue();
      });
      await lab.nameInput.fill('lab_sid');
      await lab.write.click();
      // The click's handlers have run (the page answered after them); then the options may go.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve)));
      release();
      await expect(lab.exchange(1)).toBeVisible();
      expect(order).toEqual(['sent options', 'answered options', 'sent write']);
      expect((await recordedExchanges(page, lab.id)).map((exchange) => exchange.options.name)).toEqual(['lab_sid']);
    });
  });
}
