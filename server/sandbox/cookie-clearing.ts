// Clearing a sandbox's cookies from the browser: express-session never does (destroy() leaves the
// cookie), and a Set-Cookie clears a cookie only when it repeats the same name, path and domain.
import type { Sandbox } from './sandbox.ts';
import { parseSetCookie } from '../exchange/cookie-anatomy.ts';
import { domainMatches } from '../exchange/browser-notes.ts';

const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

export interface Clearing {
  /** The expired Set-Cookie headers to send. */
  headers: string[];
  /** What they clear, in words (name, path, domain). */
  cleared: string[];
}

/**
 * An expired Set-Cookie for every cookie the sandbox may have left in this browser that the lab can
 * still name: the current name, `extraNames` (the cookies the clearing request itself carried, when
 * it came under the sandbox's path; a lesson's own name), and each name its kept exchanges set,
 * under the sandbox's path, host-only and under each Domain those exchanges used. `host` is the
 * host the browser addressed: a Domain that does not cover it would be refused. (The caller records
 * that they were cleared, registry.noteCookiesCleared: the jar's verdict then says so.)
 */
export function clearSandboxCookies(sandbox: Sandbox, host: string, extraNames: readonly string[] = []): Clearing {
  const names = new Set<string>([sandbox.options.name, ...extraNames]);
  const domains = new Set<string>();
  for (const exchange of sandbox.exchanges) {
    for (const header of exchange.setCookie) {
      const cookie = parseSetCookie(header, []);
      names.add(cookie.name);
      if (cookie.domain) domains.add(cookie.domain.replace(/^\./, '').toLowerCase());
    }
  }
  const scopes = [null, ...[...domains].filter((domain) => domainMatches(host, domain))];
  const headers: string[] = [];
  const cleared: string[] = [];
  for (const name of names) {
    // A __Secure- or __Host- cookie is only replaced by one that is Secure itself.
    const secure = /^__(secure|host)-/i.test(name) ? '; Secure' : '';
    for (const domain of scopes) {
      headers.push(`${name}=; Path=${sandbox.path}${domain ? `; Domain=${domain}` : ''}; Expires=${EPOCH}${secure}`);
      cleared.push(`${name} (Path=${sandbox.path}${domain ? `, Domain=${domain}` : ', this host only'})`);
    }
  }
  return { headers, cleared };
}
