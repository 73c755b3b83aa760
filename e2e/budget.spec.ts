// The page weight a classroom pays: a lesson page's JavaScript and CSS stay under 40 KB as sent
// (compressed), and nothing is fetched from any origin but the lab's own (classrooms can be offline).
import { test, expect } from '@playwright/test';

const BUDGET_BYTES = 40 * 1024;

test.describe('page weight', () => {
  test('a lesson page ships under 40 KB of JavaScript and CSS and asks no other origin', async ({ page, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const requests: { url: string; type: string; bytes: Promise<number> }[] = [];
    page.on('requestfinished', (request) => {
      requests.push({ url: request.url(), type: request.resourceType(), bytes: request.sizes().then((s) => s.responseBodySize) });
    });
    await page.goto('/lessons/what-a-session-cookie-is');
    await page.waitForLoadState('networkidle');

    const foreign = requests.filter((r) => new URL(r.url).origin !== origin && !r.url.startsWith('about:'));
    expect(foreign.map((r) => r.url)).toEqual([]);

    const assets = requests.filter((r) => r.type === 'script' || r.type === 'stylesheet');
    const sizes = await Promise.all(assets.map(async (r) => ({ url: r.url, bytes: await r.bytes })));
    const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(total, JSON.stringify(sizes)).toBeLessThan(BUDGET_BYTES);
  });
});
