// The sandbox page, driven the way a learner drives it: clicking, typing and toggling, with htmx
// swapping the answers in. Every test starts its own sandbox (GET /lab redirects to a new one), and
// every test fails on a console error, an uncaught page error or a Content-Security-Policy violation.
// Long because it is the one spec of the sandbox page: each test is a learner's story through it,
// and they share the page's landmarks (e2e/support/lab-page.ts) and a few helpers at the bottom.
import type { Locator, Page } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test, COOKIE_NAME, allowConsoleErrors, findCookie, jarVerdictFor, openLesson, openSandbox } from './support/lab-page.ts';

test.describe('Set-Cookie inspector', () => {
  test('learner writes a value and the inspector shows the Set-Cookie the browser actually stored', async ({ page, context }) => {
    const lab = await openSandbox(page);

    const sent = await test.step('write user=ada', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.summary, 'the result also shows beside the buttons').toHaveText('#1 POST write → 200: Set-Cookie sent · store.set · your browser stored it · details in the inspector');
      await expect(lab.setCookie).toHaveCount(1);
      const header = await lab.setCookie.innerText();
      expect(header).toMatch(/^Set-Cookie: /);
      return parseSetCookie(header.replace(/^Set-Cookie: /, ''));
    });

    await test.step('the shown header matches what the browser stored', async () => {
      expect(sent.name).toBe(COOKIE_NAME);
      const stored = await findCookie(context, sent.name);
      expect(stored, `the browser holds a "${sent.name}" cookie`).toBeDefined();
      expect(stored!.value).toBe(sent.value);
      expect(stored!.path).toBe(sent.attributes.get('path'));
      expect(stored!.path).toBe(lab.path);
      expect(stored!.httpOnly).toBe(sent.attributes.has('httponly'));
      expect(stored!.httpOnly).toBe(true);
      const expires = sent.attributes.get('expires');
      expect(expires, 'the cookie has an Expires attribute (maxAge is set)').toBeDefined();
      const shownExpiry = Date.parse(expires!) / 1000;
      expect(Math.abs(stored!.expires - shownExpiry)).toBeLessThanOrEqual(EXPIRY_TOLERANCE_S);
      // cookie.maxAge is one hour by default.
      expect(Math.abs(shownExpiry - (Date.now() / 1000 + 3600))).toBeLessThanOrEqual(60);
    });

    await test.step('visit: the browser sends exactly that cookie back', async () => {
      await lab.visit.click();
      await expect(lab.exchange(2)).toBeVisible();
      await expect(lab.requestCookie).toHaveText(`Cookie: ${sent.name}=${sent.value}`);
      await expect(lab.setCookie).toHaveText('(no Set-Cookie header)');
    });
  });
});

test.describe('HttpOnly and page JavaScript', () => {
  test('learner toggles httpOnly off and sees the cookie appear in document.cookie', async ({ page, context }) => {
    const lab = await openSandbox(page);

    await test.step('httpOnly on: the written cookie is hidden from page scripts', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      expect((await findCookie(context, COOKIE_NAME))?.httpOnly).toBe(true);
      await lab.readProbe.click();
      await expect(lab.probe).toHaveText('(empty: page JavaScript sees no cookie)');
      await expect(lab.probe).not.toContainText(`${COOKIE_NAME}=`);
    });

    await test.step('uncheck cookie.httpOnly: applied at once', async () => {
      await page.getByLabel('cookie.httpOnly').uncheck();
      await expect(lab.codeView).toContainText('httpOnly: false');
      await expect(page.getByLabel('cookie.httpOnly')).not.toBeChecked();
    });

    await test.step('write again: the session keeps the HttpOnly cookie it was created with', async () => {
      // express-session rebuilds req.session.cookie from the stored session, so a session created
      // under httpOnly: true keeps HttpOnly in every re-sent Set-Cookie.
      await lab.valueInput.fill('grace');
      await lab.write.click();
      await expect(lab.exchange(2)).toBeVisible();
      await expect(lab.setCookie).toHaveCount(1);
      await expect(lab.setCookie).toContainText(/; HttpOnly/i);
      await lab.readProbe.click();
      await expect(lab.probe).not.toContainText(`${COOKIE_NAME}=`);
    });

    await test.step('regenerate: the new session gets a cookie without HttpOnly, and page scripts see it', async () => {
      await lab.regenerate.click();
      await expect(lab.exchange(3)).toBeVisible();
      await expect(lab.setCookie).toHaveCount(1);
      await expect(lab.setCookie).toContainText(`Set-Cookie: ${COOKIE_NAME}=`);
      await expect(lab.setCookie).not.toContainText(/HttpOnly/i);
      await lab.readProbe.click();
      await expect(lab.probe).toContainText(`${COOKIE_NAME}=`);
      const stored = await findCookie(context, COOKIE_NAME);
      expect(stored?.httpOnly).toBe(false);
      await expect(lab.probe).toHaveText(`${COOKIE_NAME}=${stored!.value}`);
    });
  });

  test('learner turns httpOnly off before the first write and page scripts can read the cookie', async ({ page }) => {
    const lab = await openSandbox(page);

    await test.step('httpOnly on, nothing written: document.cookie is empty', async () => {
      await lab.readProbe.click();
      await expect(lab.probe).not.toContainText(`${COOKIE_NAME}=`);
    });

    await test.step('uncheck cookie.httpOnly', async () => {
      await page.getByLabel('cookie.httpOnly').uncheck();
      await expect(lab.codeView).toContainText('httpOnly: false');
    });

    await test.step('write: the cookie comes without HttpOnly and document.cookie shows it', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.setCookie).not.toContainText(/HttpOnly/i);
      // Shown again on the answer's HX-Trigger event (sandbox-exchange), before any click.
      await expect(lab.probe).toContainText(`${COOKIE_NAME}=`);
      const reported = page.waitForResponse((r) => r.url().endsWith(`${lab.path}/probe`));
      await lab.readProbe.click();
      const answer = await reported;
      expect(answer.status()).toBe(204);
      expect(answer.headers()['hx-trigger'], 'the answer names the event lesson tasks refresh on').toBe('sandbox-probe');
      expect(answer.request().postData()).toMatch(new RegExp(`^documentCookie=${COOKIE_NAME}%3D`));
      await expect(lab.probe).toContainText(`${COOKIE_NAME}=`);
    });
  });

  test('learner is told why a re-sent cookie is still HttpOnly after turning httpOnly off', async ({ page }) => {
    // App gap: after unchecking cookie.httpOnly, a write re-sends the cookie WITH HttpOnly (the stored
    // session's cookie keeps its flags) while the code view says `httpOnly: false`, and the Why text
    // only says "re-sent because the session changed...". The inspector should say that the existing
    // session keeps the cookie attributes it was created with until it is regenerated.
    const lab = await openSandbox(page);
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    await page.getByLabel('cookie.httpOnly').uncheck();
    await expect(lab.codeView).toContainText('httpOnly: false');
    await lab.valueInput.fill('grace');
    await lab.write.click();
    await expect(lab.exchange(2)).toBeVisible();
    await expect(lab.inspector.locator('.why')).toContainText(/httpOnly|HttpOnly/);
  });
});

test.describe('Secure cookies over plain HTTP', () => {
  test('learner turns secure on and sees no cookie and the explanation', async ({ page, context }) => {
    const lab = await openSandbox(page);

    await test.step('select cookie.secure = true', async () => {
      await page.getByLabel('cookie.secure').selectOption('true');
      await expect(lab.codeView).toContainText('secure: true,');
    });

    await test.step('write: no Set-Cookie, and the reason', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.setCookie).toHaveText('(no Set-Cookie header)');
      await expect(lab.inspector.locator('p.why-cookie')).toContainText('cookie.secure is on and this request is not HTTPS');
      expect(await findCookie(context, COOKIE_NAME)).toBeUndefined();
    });
  });
});

test.describe('Slow visit', () => {
  test('learner starts a slow visit and is shown it is running until the answer comes', async ({ page }) => {
    const lab = await openSandbox(page);
    await expect(lab.waiting).toBeHidden();

    await test.step('a 1.5 s slow visit: the form says it is waiting, in a live region', async () => {
      await lab.delayInput.fill('1500');
      await lab.slow.click();
      await expect(lab.waiting).toBeVisible();
      await expect(lab.requests.getByRole('status').filter({ hasText: 'Waiting for the answer' })).toHaveCount(1);
      await expect(lab.exchange(1)).toHaveCount(0);
    });

    await test.step('the answer arrives: the inspector shows it and the waiting note goes', async () => {
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.exchange(1)).toContainText(`GET ${lab.path}/slow?ms=1500`);
      await expect(lab.waiting).toBeHidden();
      await expect(lab.summary).toContainText('#1 GET slow → 200');
    });
  });
});

test.describe('Write validation', () => {
  test('learner writes with an invalid key and sees a clear message, and the sandbox is unchanged', async ({ page }) => {
    const lab = await openSandbox(page);
    allowConsoleErrors(page, EXPECTED_400(`${lab.path}/write`));

    const before = await test.step('a first, valid write', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      // The jar answers after the exchange (it asks the browser): the snapshot waits for its verdict.
      expect(await jarVerdictFor(lab, 1)).toBe('stored');
      return { inspector: await lab.inspector.innerText(), history: await lab.history.innerText(), session: await lab.sessionView.innerText() };
    });

    await test.step('write with key __proto__: an alert names the key', async () => {
      await lab.keyInput.fill('__proto__');
      await lab.valueInput.fill('polluted');
      await lab.write.click();
      const alert = lab.requestAlert;
      await expect(alert).toBeVisible();
      await expect(alert).toContainText('400');
      await expect(alert).toContainText('key "__proto__" is reserved');
    });

    await test.step('the inspector, history and session are as they were', async () => {
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.exchange(2)).toHaveCount(0);
      expect(await lab.inspector.innerText()).toBe(before.inspector);
      expect(await lab.history.innerText()).toBe(before.history);
      expect(await lab.sessionView.innerText()).toBe(before.session);
      await expect(lab.sessionView).not.toContainText('polluted');
    });

    await test.step('a valid write afterwards clears the message', async () => {
      await lab.keyInput.fill('color');
      await lab.valueInput.fill('blue');
      await lab.write.click();
      await expect(lab.exchange(2)).toBeVisible();
      await expect(lab.requestAlert).toHaveCount(0);
      await expect(lab.sessionView).toContainText('"color": "blue"');
    });
  });
});

test.describe('Options validation', () => {
  test('learner enters a cookie name with a space and sees the message next to the field', async ({ page }) => {
    const lab = await openSandbox(page);
    allowConsoleErrors(page, EXPECTED_400(`${lab.path}/options`));
    const name = page.getByLabel('name', { exact: true });

    await test.step('type "my cookie" and leave the field', async () => {
      await name.fill('my cookie');
      await name.press('Tab');
    });

    await test.step('the message is next to the field, and the field is flagged', async () => {
      const field = lab.fieldOf(name);
      await expect(field).toContainText('name may use only letters, digits');
      await expect(name).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByRole('alert').filter({ hasText: 'Not applied' })).toContainText('The sandbox keeps its previous options');
      // The learner's input stays in the field so they can correct it.
      await expect(name).toHaveValue('my cookie');
    });

    await test.step('the code view still shows the previous name', async () => {
      await expect(lab.codeView).toContainText('name: "mycookie",');
      await expect(lab.codeView).not.toContainText('my cookie');
    });

    await test.step('correcting the name applies it and clears the message', async () => {
      await name.fill('my_cookie');
      await name.press('Tab');
      await expect(lab.codeView).toContainText('name: "my_cookie",');
      await expect(page.getByRole('alert')).toHaveCount(0);
      await expect(name).not.toHaveAttribute('aria-invalid', 'true');
    });
  });

  test('learner enters a negative maxAge and the sandbox keeps the previous value', async ({ page }) => {
    const lab = await openSandbox(page);
    allowConsoleErrors(page, EXPECTED_400(`${lab.path}/options`));
    const maxAge = page.getByLabel('cookie.maxAge (ms)');

    await test.step('type -5 and leave the field', async () => {
      await maxAge.fill('-5');
      await maxAge.press('Tab');
    });

    await test.step('an alert says why, and the code view still shows the previous value', async () => {
      await expect(page.getByRole('alert')).toContainText('cookie.maxAge must not be negative');
      await expect(lab.codeView).toContainText('maxAge: 3600000, // milliseconds: 1 hour');
      await expect(maxAge).toHaveValue('-5');
    });
  });

  test('learner enters a negative maxAge and sees the message next to the field', async ({ page }) => {
    // App bug: errors on cookie.* options carry field "cookie.maxAge" (also cookie.secure, cookie.sameSite,
    // cookie.domain, cookie.httpOnly), but views/mixins/fields.pug compares form.error.field against the
    // bare form field name ("maxAge"), so no .field-error appears beside the input and aria-invalid is
    // not set; only the form-level "Not applied: ..." alert at the top of the form shows.
    const lab = await openSandbox(page);
    allowConsoleErrors(page, EXPECTED_400(`${lab.path}/options`));
    const maxAge = page.getByLabel('cookie.maxAge (ms)');
    await maxAge.fill('-5');
    await maxAge.press('Tab');
    await expect(lab.fieldOf(maxAge)).toContainText('cookie.maxAge must not be negative');
    await expect(maxAge).toHaveAttribute('aria-invalid', 'true');
    await expect(maxAge).toHaveAccessibleDescription(/cookie.maxAge must not be negative/);
    await expect(lab.codeView).toContainText('maxAge: 3600000');
  });
});

test.describe('Keyboard use', () => {
  test('learner uses the page without a mouse: Tab to Write and press Enter', async ({ page }) => {
    const lab = await openSandbox(page);

    await test.step('Tab into the Key field and type a key', async () => {
      await tabUntilFocused(page, lab.keyInput);
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type('theme');
    });

    await test.step('Tab to Value and type a value', async () => {
      await page.keyboard.press('Tab');
      await expect(lab.valueInput).toBeFocused();
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type('dark');
    });

    await test.step('Tab to Write and press Enter: an exchange appears', async () => {
      await page.keyboard.press('Tab');
      await expect(lab.write).toBeFocused();
      await page.keyboard.press('Enter');
      await expect(lab.exchange(1)).toBeVisible();
      await expect(lab.exchange(1)).toContainText(`POST ${lab.path}/write`);
      await expect(lab.setCookie).toContainText(`Set-Cookie: ${COOKIE_NAME}=`);
      await expect(lab.sessionView).toContainText('"theme": "dark"');
    });

    await test.step('toggle an option from the keyboard (Space on the checkbox)', async () => {
      const httpOnly = page.getByLabel('cookie.httpOnly');
      await tabUntilFocused(page, httpOnly, 'Shift+Tab');
      await page.keyboard.press('Space');
      await expect(lab.codeView).toContainText('httpOnly: false');
    });
  });
});

test.describe('Layout on desktop and phone', () => {
  test('learner writes a value and the page is captured at desktop and phone widths', async ({ page }) => {
    const lab = await openSandbox(page);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });

    await test.step('write twice: the inspector shows both the Cookie sent and the Set-Cookie received', async () => {
      await lab.write.click();
      await expect(lab.exchange(1)).toBeVisible();
      await lab.valueInput.fill('grace');
      await lab.write.click();
      await expect(lab.exchange(2)).toBeVisible();
      await expect(lab.requestCookie).toContainText(`Cookie: ${COOKIE_NAME}=`);
      await expect(lab.setCookie).toContainText(`Set-Cookie: ${COOKIE_NAME}=`);
      await expect(lab.sessionView).toContainText('"user": "grace"');
      await expect(lab.codeView).toContainText('httpOnly: true,');
      await lab.readProbe.click();
      await expect(lab.probe).toHaveText('(empty: page JavaScript sees no cookie)');
    });

    await test.step('desktop, 1280px wide', async () => {
      const path = join(SCREENSHOT_DIR, 'sandbox-desktop-1280.png');
      await fullPageScreenshot(page, 1280, path);
      // The README's picture is refreshed on demand only, so a test run leaves the tree clean.
      if (process.env.UPDATE_SCREENSHOT) {
        mkdirSync(dirname(DOCS_SCREENSHOT), { recursive: true });
        copyFileSync(path, DOCS_SCREENSHOT);
      }
      expect(await horizontalOverflow(page), 'nothing sticks out sideways on a desktop').toBe(0);
    });

    await test.step('phone, 390px wide', async () => {
      await fullPageScreenshot(page, 390, join(SCREENSHOT_DIR, 'sandbox-phone-390.png'));
    });
  });

  test('learner sees the result of each click where they clicked, on the sandbox page and beside a lesson', async ({ page }) => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    for (const where of ['sandbox', 'lesson'] as const) {
      for (const [width, height] of [[1280, 800], [390, 844]] as const) {
        await test.step(`${where} page at ${width}x${height}`, async () => {
          await page.setViewportSize({ width, height });
          const lab = where === 'sandbox' ? await openSandbox(page) : await openLesson(page);
          await lab.write.click();
          // A lesson keeps the learner's sandbox: the second lesson visit goes on counting.
          await expect(lab.summary).toContainText(/^#\d+ POST write → 200/);
          await expect(lab.summary).toBeInViewport();
          await page.screenshot({ path: join(SCREENSHOT_DIR, `${where}-write-${width}x${height}.png`) });
          await lab.delayInput.fill('3000');
          await lab.slow.click();
          await expect(lab.waiting).toBeInViewport();
          await page.screenshot({ path: join(SCREENSHOT_DIR, `${where}-slow-${width}x${height}.png`) });
          await expect(lab.summary).toContainText(/^#\d+ GET slow → 200/, { timeout: 6_000 });
          await expect(lab.waiting).toBeHidden();
        });
      }
    }
  });

  test('learner sees the site navigation as separate links', async ({ page }) => {
    // App bug: views/layout.pug renders the nav's <a> elements with no whitespace between them and
    // public/app.css gives the nav no gap, so the header reads "LessonsNew sandboxProgress".
    // Fix: `.site-header nav { display: flex; flex-wrap: wrap; gap: 1rem; }`.
    await openSandbox(page);
    const links = page.getByRole('navigation', { name: 'Site' }).getByRole('link');
    await expect(links).toHaveCount(3);
    const boxes = await links.evaluateAll((elements) => elements.map((el) => el.getBoundingClientRect().toJSON() as DOMRect));
    for (let i = 1; i < boxes.length; i++) {
      const [left, right] = [boxes[i - 1]!, boxes[i]!];
      const sameLine = Math.abs(left.top - right.top) < 2;
      if (sameLine) expect(right.left - left.right, 'space between neighbouring nav links').toBeGreaterThanOrEqual(8);
    }
  });

  test('learner on a phone never has to scroll sideways', async ({ page }) => {
    // App bug: at 390px the inspector's title "#N POST /sandbox/<22-char id>/write" is one unbreakable
    // word in bold and sticks out of its panel, so the whole page scrolls sideways by ~30-45px. Only a
    // "-" in the random id gives it a break opportunity, so this test picks a sandbox whose id has none.
    // Fix: `.exchange-title { overflow-wrap: anywhere; }` in public/app.css.
    await page.setViewportSize({ width: 390, height: 844 });
    let lab = await openSandbox(page);
    for (let tries = 0; lab.path.includes('-') && tries < 10; tries++) lab = await openSandbox(page);
    expect(lab.path).not.toContain('-');
    await lab.write.click();
    await expect(lab.exchange(1)).toBeVisible();
    expect(await horizontalOverflow(page)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers and constants

/** Set-Cookie's Expires has whole seconds; the browser keeps fractions. */
const EXPIRY_TOLERANCE_S = 2;
const SCREENSHOT_DIR = join('test-results', 'screenshots');
const DOCS_SCREENSHOT = join('docs', 'screenshot.png');
/** Chromium logs every 4xx fetch as a console error; a test that provokes one allows exactly that. */
const EXPECTED_400 = (path: string) => new RegExp(`status of 400 \\(Bad Request\\) @ http://[^/]+${escapeRegExp(path)}$`);

interface ParsedSetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags map to ''. */
  attributes: Map<string, string>;
}

function parseSetCookie(header: string): ParsedSetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i === -1 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes.set(key, i === -1 ? '' : part.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Presses Tab (or Shift+Tab) until `target` has focus, as a keyboard user would. */
async function tabUntilFocused(page: Page, target: Locator, key = 'Tab', maxPresses = 60): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press(key);
  }
  await expect(target).toBeFocused();
}

/**
 * A full-page screenshot at `width`: the viewport is first made as tall as the page, so every
 * scrolling box (the <pre> blocks) is painted; Chromium's capture beyond the viewport sometimes
 * leaves them blank. The viewport keeps that size afterwards.
 */
async function fullPageScreenshot(page: Page, width: number, path: string): Promise<void> {
  await page.setViewportSize({ width, height: 900 });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width, height });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path, fullPage: true });
}

/** How many CSS pixels the page is wider than the viewport. */
async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
