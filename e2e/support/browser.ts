// Which Chromium the end-to-end tests drive: Debian's where it is installed (this project's
// machines cannot download a browser), else Playwright's own, fetched once by `npm test`.
import { existsSync } from 'node:fs';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The executable to launch, or undefined for Playwright's own browser. */
export function chromiumExecutable(): string | undefined {
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}
