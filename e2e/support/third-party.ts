// A Chromium whose profile allows third-party cookies (its "Allow third-party cookies" setting,
// cookie_controls_mode 0), which Playwright's own contexts cannot change: Chromium 156 blocks them
// there, as in its incognito windows. Needed where a SameSite=None cookie must travel in another
// site's image, frame or fetch (e2e/cross-site.spec.ts, lesson 11's replay).
import { chromium, type BrowserContext } from '@playwright/test';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumExecutable } from './browser.ts';

export async function thirdPartyCookiesAllowed(baseURL: string | undefined): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'cookie-lab-3pc-'));
  mkdirSync(join(profile, 'Default'));
  writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumExecutable(), args: ['--no-sandbox', '--disable-gpu'], baseURL });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
