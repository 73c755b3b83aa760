// What a browser will do with a Set-Cookie the server did send: the rejections and quirks the
// server never hears about (RFC 6265bis and Chromium's rules).
import type { ParsedSetCookie } from './cookie-anatomy.ts';

const CHROMIUM_MAX_LIFETIME_MS = 400 * 24 * 60 * 60 * 1000;

export function browserNotes(cookie: ParsedSetCookie, host: string, requestIsHttps: boolean): string[] {
  const notes: string[] = [];
  const localhost = host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '[::1]' || host === '::1';
  if (cookie.domain && !domainMatches(host, cookie.domain)) {
    notes.push(`The browser rejects this cookie: Domain=${cookie.domain} does not cover the host ${host}, so every request starts a new session.`);
  }
  if (cookie.sameSite?.toLowerCase() === 'none' && !cookie.secure) {
    notes.push('The browser rejects this cookie: SameSite=None is only accepted together with Secure.');
  }
  if (cookie.secure && !requestIsHttps) {
    notes.push(
      localhost
        ? 'Secure over plain HTTP: Chromium still keeps it, because localhost counts as a secure context; any other host would refuse it.'
        : 'The browser rejects this cookie: it is marked Secure but came over plain HTTP.',
    );
  }
  if (cookie.name.startsWith('__Host-') && (!cookie.secure || cookie.domain || cookie.path !== '/')) {
    notes.push('The browser rejects this cookie: a __Host- name requires Secure, no Domain, and Path=/ (a sandbox\'s path is never /).');
  } else if (cookie.name.startsWith('__Secure-') && !cookie.secure) {
    notes.push('The browser rejects this cookie: a __Secure- name requires Secure.');
  }
  if (cookie.expires) {
    const lifetime = Date.parse(cookie.expires) - Date.now();
    if (lifetime <= 0) notes.push('Expires is already past: the browser deletes the cookie instead of storing it.');
    else if (lifetime > CHROMIUM_MAX_LIFETIME_MS) notes.push('Chromium caps a cookie\'s lifetime at 400 days: it keeps this one for 400 days, not until its Expires.');
  } else {
    notes.push('No Expires: a browser-session cookie, gone when the browser closes.');
  }
  return notes;
}

function domainMatches(host: string, domain: string): boolean {
  const bare = domain.replace(/^\./, '').toLowerCase();
  const h = host.toLowerCase();
  return h === bare || h.endsWith(`.${bare}`);
}
