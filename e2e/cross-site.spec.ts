// Issue 13, cross-site for real: the second site's page (127.0.0.1, while the learner uses
// localhost) sends every kind of request the SameSite lesson talks about to the learner's sandbox,
// and the grid shows, per kind and SameSite of the cookie the browser held, whether the Cookie
// header that arrived carried it. Each expectation below is what Chromium 156 does; the grid is
// read from the server's record, so a browser that behaved otherwise would fail it.
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { join } from 'node:path';
import { expect, test, allowConsoleErrors, consoleProblems, expectNoSeriousAxeViolations, expectOnScreen, jarVerdictFor, openSandbox, watchConsole, type Lab } from './support/lab-page.ts';
import { thirdPartyCookiesAllowed } from './support/third-party.ts';
import { chromiumExecutable } from './support/browser.ts';

type Column = 'unset' | 'lax' | 'strict' | 'none';
type Kind = 'link' | 'form' | 'image' | 'iframe' | 'fetch' | 'fetch-credentials';
const KINDS: Kind[] = ['link', 'form', 'image', 'iframe', 'fetch', 'fetch-credentials'];

/**
 * What Chromium 156 attaches, with third-party cookies blocked (its incognito default, and this
 * test browser's): only top-level navigations carry a cookie cross-site, Lax only on a GET, and a
 * cookie with no SameSite on a POST too while it is under two minutes old (Lax+POST). None (with
 * Secure) behaves as a third-party cookie: on images, frames and fetches it is blocked as such.
 */
const ATTACHED: Record<Column, Kind[]> = {
  unset: ['link', 'form'],
  lax: ['link'],
  strict: [],
  none: ['link', 'form'],
};

/** Gives the browser a fresh cookie with that SameSite, from the sandbox page (a Regenerate), and waits for the jar to see it stored. */
async function cookieWith(page: Page, lab: Lab, column: Column, exchange: number): Promise<void> {
  const none = column === 'none';
  // SameSite=None needs Secure; express-session sends Secure over HTTP only when it believes
  // X-Forwarded-Proto (proxy: true), which the page's own checkbox adds.
  await page.getByLabel('cookie.secure').selectOption(none ? 'true' : 'false');
  await page.getByLabel('proxy', { exact: true }).selectOption(none ? 'true' : '');
  await page.getByLabel('cookie.sameSite').selectOption(column === 'unset' ? '' : column);
  await page.locator('#forwarded-proto').setChecked(none);
  await lab.regenerate.click();
  await expect(lab.setCookie).toContainText(column === 'unset' ? /mycookie=(?!.*SameSite)/ : new RegExp(`SameSite=${column}`, 'i'));
  expect(await jarVerdictFor(lab, exchange)).toMatch(/^(stored|replaced)$/);
}

/** The second site's page for the sandbox, in a tab of the same browser, watched for console errors. */
async function openOtherSite(page: Page, context: BrowserContext): Promise<Page> {
  const href = await page.locator('#other-site-link').getAttribute('href');
  expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sandbox\/[A-Za-z0-9_-]+\/other-site\?lab=localhost$/);
  const other = await context.newPage();
  await watchConsole(other);
  // A fetch the sandbox answers without CORS headers fails in the page, and Chromium logs it.
  allowConsoleErrors(other, /blocked by CORS policy/, /Failed to load resource: net::ERR_FAILED/);
  await other.goto(href!);
  await expect(other.getByRole('heading', { name: 'Another site: 127.0.0.1' })).toBeVisible();
  return other;
}

/** Sends one kind from the second site's page and returns whether the grid says the cookie went along. */
async function send(other: Page, kind: Kind, column: Column, { rulesAgree = true } = {}): Promise<boolean> {
  const row = other.locator(`#row-${kind}`);
  const cell = other.locator(`[data-cell="${kind}:${column}"]`);
  const before = await row.getAttribute('data-latest');
  if (kind === 'link' || kind === 'form') {
    // A top-level navigation to the sandbox, which redirects back here.
    const back = other.waitForResponse((r) => r.url().includes('/other-site?lab=') && r.request().method() === 'GET');
    await row.locator('.send').click();
    await back;
  } else {
    await row.locator('.send').click();
  }
  // The row names the newest exchange of its kind once the grid has been asked again.
  await expect(row).toHaveAttribute('data-latest', /\d+/);
  await expect(row).not.toHaveAttribute('data-latest', before ?? '-');
  await expect(cell).toHaveAttribute('data-sent', /^(true|false)$/);
  // Where the learner clicked: the row's cell is on screen, without scrolling, marked as the newest.
  await expectOnScreen(cell, `the ${kind} row's ${column} cell`);
  await expect(cell).toHaveClass(/cell-newest/);
  // The lab's explanation (the browser's rules) agrees with what Chromium did, unless told not to.
  await expect(other.locator('.latest-words')).toContainText(`Latest: #`);
  if (rulesAgree) await expect(other.locator('.latest-words')).not.toContainText('did otherwise');
  return (await cell.getAttribute('data-sent')) === 'true';
}

test.describe('the cross-site grid', () => {
  test('every SameSite value × request kind, from the second site, as Chromium attaches them (third-party cookies blocked)', async ({ page, context }) => {
    test.setTimeout(120_000);
    const lab = await openSandbox(page);
    const other = await openOtherSite(page, context);
    let exchange = 0;
    for (const column of ['unset', 'lax', 'strict', 'none'] as Column[]) {
      await cookieWith(page, lab, column, ++exchange);
      const seen: Kind[] = [];
      for (const kind of KINDS) {
        if (await send(other, kind, column)) seen.push(kind);
        exchange++;
      }
      expect(seen, `SameSite ${column}: the kinds whose request carried the cookie`).toEqual(ATTACHED[column]);
    }
    // The frame shows the sandbox's own page, framed by the second site (its frame-ancestors allow it).
    await expect(other.frameLocator('#frame-slot iframe').locator('p').first()).toContainText('Exchange #26: Your browser held the mycookie cookie exchange #22 set (SameSite=None) and did not attach it.');
    // The browser says the requests were cross-site (Sec-Fetch-Site), and each was a sandbox exchange.
    const answer = await page.request.get(`/api/sandboxes/${lab.id}/exchanges`, { headers: { accept: 'application/json' } });
    const recorded = ((await answer.json()) as { exchanges: { action: string; crossSite?: { kind: string; fetchSite: string | null } | null }[] }).exchanges;
    const crossSite = recorded.filter((e) => e.crossSite);
    expect(crossSite.length).toBeGreaterThan(0);
    for (const e of crossSite) expect(e.crossSite!.fetchSite, `${e.crossSite!.kind} came cross-site`).toBe('cross-site');

    await test.step('the grid, as the learner sees it (a screenshot to look at)', async () => {
      await other.evaluate(() => window.scrollTo(0, 0));
      await other.screenshot({ path: test.info().outputPath('cross-site-grid.png'), fullPage: true });
      await other.screenshot({ path: join('test-results', 'cross-site-grid.png'), fullPage: true });
    });
    await test.step('back in its tab, the sandbox page shows the same grid, and the inspector the latest exchange', async () => {
      await page.bringToFront();
      // The learner's return to the tab (Playwright's bringToFront does not always fire it headless).
      await page.evaluate(() => window.dispatchEvent(new Event('focus')));
      await expect(lab.exchange(exchange)).toBeVisible();
      await expect(lab.inspector).toContainText('Sent from the second site (fetch-credentials, Origin: http://127.0.0.1:');
      await expect(lab.history).toContainText('(fetch-credentials from the second site)');
      for (const column of ['unset', 'lax', 'strict', 'none'] as Column[]) {
        for (const kind of KINDS) {
          await expect(page.locator(`#cross-site-grid [data-cell="${kind}:${column}"]`)).toHaveAttribute('data-sent', ATTACHED[column].includes(kind) ? 'true' : 'false');
        }
      }
    });
    expect(consoleProblems(other)).toEqual([]);
    await other.close();
  });

  test('the result of a click appears in the row that was clicked, on screen, on a phone too', async ({ page, context }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const lab = await openSandbox(page);
    await cookieWith(page, lab, 'lax', 1);
    const other = await openOtherSite(page, context);
    await other.setViewportSize({ width: 390, height: 844 });
    expect(await send(other, 'image', 'lax')).toBe(false);
    await expect(other.locator('.latest-words')).toContainText('did not attach it');
    expect(await send(other, 'link', 'lax')).toBe(true);
    await expect(other.locator('.latest-words')).toContainText('Your browser attached the mycookie cookie exchange #1 set (SameSite=Lax)');
    await expectNoSeriousAxeViolations(other, "the second site's page");
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await expect(page.locator('#cross-site-grid [data-cell="link:lax"]')).toHaveAttribute('data-sent', 'true');
    await expectNoSeriousAxeViolations(page, 'the sandbox page with its cross-site panel');
    await page.locator('.cross-site-panel').screenshot({ path: join('test-results', 'cross-site-panel-phone.png') });
    expect(consoleProblems(other)).toEqual([]);
  });

  test('with third-party cookies allowed, SameSite=None; Secure goes along on images, frames and credentialed fetches too', async ({ baseURL }) => {
    test.setTimeout(90_000);
    const { context, close } = await thirdPartyCookiesAllowed(baseURL);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const lab = await openSandbox(page);
      await cookieWith(page, lab, 'none', 1);
      const other = await openOtherSite(page, context);
      const seen: Kind[] = [];
      for (const kind of KINDS) if (await send(other, kind, 'none')) seen.push(kind);
      // A fetch without credentials: 'include' never sends cookies cross-origin, allowed or not.
      expect(seen).toEqual(['link', 'form', 'image', 'iframe', 'fetch-credentials']);
      await cookieWith(page, lab, 'lax', 8);
      const lax: Kind[] = [];
      for (const kind of KINDS) if (await send(other, kind, 'lax')) lax.push(kind);
      expect(lax, 'allowing third-party cookies does not make a Lax cookie one').toEqual(['link']);
      expect(consoleProblems(other)).toEqual([]);
    } finally {
      await close();
    }
  });
});

test.describe("CORS: what the second site's page may read", () => {
  test("a fetch's answer is readable only as the sandbox's CORS options allow, and * never for credentials", async ({ page, context }) => {
    const lab = await openSandbox(page);
    const other = await openOtherSite(page, context);
    const reading = other.locator('#page-reading');
    const cors = async (origin: 'off' | '*' | 'echo', credentials: boolean) => {
      await page.locator('#opt-corsOrigin').selectOption(origin);
      await page.locator('#opt-corsCredentials').setChecked(credentials);
      await expect(page.locator('#opt-corsOrigin')).toHaveValue(origin);
      // Applied once the form's answer is in: the code view shows exactly these CORS lines.
      const code = lab.codeView.locator('pre').first();
      await expect(code).toContainText(origin === '*' ? "res.set('Access-Control-Allow-Origin', '*')" : origin === 'echo' ? "res.set('Access-Control-Allow-Origin', origin)" : 'app.use(');
      if (credentials) await expect(code).toContainText('Access-Control-Allow-Credentials');
      else await expect(code).not.toContainText('Access-Control-Allow-Credentials');
    };
    const fetchAs = async (kind: 'fetch' | 'fetch-credentials') => {
      await send(other, kind, 'unset');
      return reading.textContent();
    };
    await page.getByLabel('cookie.sameSite').selectOption('');
    await lab.regenerate.click();
    expect(await jarVerdictFor(lab, 1)).toBe('stored');

    expect(await fetchAs('fetch-credentials')).toMatch(/could not read the answer/);
    await cors('*', true);
    expect(await fetchAs('fetch'), "* lets any page read an answer sent without credentials").toMatch(/could read the answer/);
    expect(await fetchAs('fetch-credentials'), '* is refused on a credentialed answer').toMatch(/could not read the answer/);
    await cors('echo', false);
    expect(await fetchAs('fetch-credentials'), 'the origin without Allow-Credentials: refused').toMatch(/could not read the answer/);
    await cors('echo', true);
    expect(await fetchAs('fetch-credentials'), 'the origin and Allow-Credentials: readable').toMatch(/could read the answer: Your browser held the mycookie cookie exchange #1 set \(no SameSite attribute\) and did not attach it\./);
    expect(consoleProblems(other)).toEqual([]);
  });
});

test.describe('Lax+POST: a cookie with no SameSite on a cross-site top-level POST', () => {
  test('inside two minutes it goes along, an explicit SameSite=Lax one does not', async ({ page, context }) => {
    const lab = await openSandbox(page);
    const other = await openOtherSite(page, context);
    await cookieWith(page, lab, 'unset', 1);
    expect(await send(other, 'form', 'unset'), 'no SameSite, seconds old: sent on the POST').toBe(true);
    expect(Number(await other.locator('[data-cell="form:unset"]').getAttribute('data-age-ms'))).toBeLessThan(120_000);
    await cookieWith(page, lab, 'lax', 3);
    expect(await send(other, 'form', 'lax'), 'SameSite=Lax, seconds old: not sent on the POST').toBe(false);
    expect(await send(other, 'link', 'lax'), 'but sent on a followed link').toBe(true);
  });

  test("Chromium's SameSiteDefaultChecksMethodRigorously feature takes the allowance away: the POST goes without the seconds-old cookie", async ({ baseURL }) => {
    // A feature of Chromium's network stack that checks the method of Lax-by-default cookies strictly,
    // i.e. without the Lax+POST allowance (tried in Chromium 156 before writing this). The slow test
    // below shows the same outcome by waiting the two minutes out; this one without waiting.
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: ['--no-sandbox', '--disable-gpu', '--enable-features=SameSiteDefaultChecksMethodRigorously'] });
    try {
      const context = await browser.newContext({ baseURL });
      const page = await context.newPage();
      const lab = await openSandbox(page);
      const other = await openOtherSite(page, context);
      await cookieWith(page, lab, 'unset', 1);
      expect(await send(other, 'form', 'unset', { rulesAgree: false }), 'no SameSite, seconds old, allowance off: not sent on the POST').toBe(false);
      // The lab's rule expects the allowance; this browser has it off, and the page says the browser wins.
      await expect(other.locator('.latest-words')).toContainText('Your browser did otherwise: what it did is what counts.');
      expect(Number(await other.locator('[data-cell="form:unset"]').getAttribute('data-age-ms'))).toBeLessThan(120_000);
      expect(await send(other, 'link', 'unset'), 'still sent on a followed link').toBe(true);
      expect(consoleProblems(other)).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  test('slow, waits 2 minutes: once the cookie with no SameSite is two minutes old, the cross-site POST goes without it', async ({ page, context }) => {
    test.slow();
    test.setTimeout(240_000);
    const lab = await openSandbox(page);
    const other = await openOtherSite(page, context);
    await cookieWith(page, lab, 'unset', 1);
    expect(await send(other, 'form', 'unset')).toBe(true);
    // Chromium's allowance runs on its own clock from the cookie's creation, which Playwright's page
    // clock does not move: wait until the server's record of the Set-Cookie is over two minutes old
    // (plus a margin: the browser created the cookie a moment after the server sent it).
    const answer = await page.request.get(`/api/sandboxes/${lab.id}/exchanges`, { headers: { accept: 'application/json' } });
    const setAt = Date.parse(((await answer.json()) as { exchanges: { number: number; finishedAt: string }[] }).exchanges.find((e) => e.number === 1)!.finishedAt);
    await expect.poll(() => Date.now() - setAt, { intervals: [5_000], timeout: 200_000, message: 'the cookie is over two minutes old' }).toBeGreaterThan(125_000);
    expect(await send(other, 'form', 'unset'), 'no SameSite, over two minutes old: not sent on the POST').toBe(false);
    expect(Number(await other.locator('[data-cell="form:unset"]').getAttribute('data-age-ms'))).toBeGreaterThanOrEqual(120_000);
    expect(await send(other, 'link', 'unset'), 'still sent on a followed link (it is Lax now)').toBe(true);
  });
});
