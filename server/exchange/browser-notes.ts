// What a browser will make of a Set-Cookie the server did send: the rejections and quirks the
// server never hears about (RFC 6265bis and Chromium's rules). These are predictions, kept as
// explanations: the verdict the page shows is the one the browser's next request reveals (jar.ts).
import { parse as parseHost } from 'tldts';
import type { ParsedSetCookie } from './cookie-anatomy.ts';

const CHROMIUM_MAX_LIFETIME_MS = 400 * 24 * 60 * 60 * 1000;

/**
 * `host` is the host name the request was addressed to; `reallyHttps` is whether the connection
 * to the browser is really HTTPS (not what the sandbox's `proxy` option made express-session
 * believe from a header the page itself may have sent).
 */
export function browserNotes(cookie: ParsedSetCookie, host: string, reallyHttps: boolean): string[] {
  const notes: string[] = [];
  const ip = isIpHost(host);
  const localhost = host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '[::1]' || host === '::1';
  if (cookie.domain) {
    const domain = cookie.domain.replace(/^\./, '').toLowerCase();
    if (ip && domain !== host.toLowerCase()) {
      notes.push(`The browser rejects this cookie: ${host} is an IP address, and a Domain attribute on an IP host must be that very address (Domain=${cookie.domain} is not).`);
    } else if (isPublicSuffix(domain) && domain !== host.toLowerCase()) {
      notes.push(
        isListed(domain)
          ? `The browser rejects this cookie: ${domain} is a public suffix (on the Public Suffix List, like com or github.io), and no site may set a cookie for every site under it.`
          : `The browser rejects this cookie: ${domain} is a top-level name the Public Suffix List does not list, which the list's default rule makes a public suffix, and no site may set a cookie for every site under it.`,
      );
    } else if (!domainMatches(host, cookie.domain)) {
      notes.push(`The browser rejects this cookie: Domain=${cookie.domain} does not cover the host ${host}, so every request starts a new session.`);
    }
  }
  if (cookie.sameSite?.toLowerCase() === 'none' && !cookie.secure) {
    notes.push('The browser rejects this cookie: SameSite=None is only accepted together with Secure.');
  }
  if (cookie.secure && !reallyHttps) {
    notes.push(
      localhost
        ? 'Secure over plain HTTP: Chromium still keeps it, because localhost counts as a secure context; any other host would refuse it.'
        : `The browser rejects this cookie: it is marked Secure but came over plain HTTP from ${host} (an X-Forwarded-Proto header can convince express-session, not the browser).`,
    );
  }
  // Chromium applies the prefix rules whatever the case of the name (__host-, __SECURE-...).
  const lower = cookie.name.toLowerCase();
  if (lower.startsWith('__host-') && (!cookie.secure || cookie.domain || cookie.path !== '/')) {
    notes.push(`The browser rejects this cookie: a name starting with __Host- (in any case, as ${cookie.name} does) requires Secure, no Domain, and Path=/ (a sandbox's path is never /).`);
  } else if (lower.startsWith('__secure-') && !cookie.secure) {
    notes.push(`The browser rejects this cookie: a name starting with __Secure- (in any case, as ${cookie.name} does) requires Secure.`);
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

/** Whether a note predicts that the browser refuses the cookie (the others are quirks it accepts). */
export function isRefusal(note: string): boolean {
  return note.startsWith('The browser rejects');
}

function isIpHost(host: string): boolean {
  return host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * A public suffix as Chromium reads the list (ICANN and private sections), its default rule
 * included: a top-level name the list does not know (test, localhost) is one too. Chromium refuses
 * Domain=test from lab.test (seen by e2e/host-matrix.spec.ts).
 */
function isPublicSuffix(domain: string): boolean {
  return parseHost(domain, { allowPrivateDomains: true }).publicSuffix === domain;
}

/** On the list itself, rather than a public suffix by its default rule only. */
function isListed(domain: string): boolean {
  const parsed = parseHost(domain, { allowPrivateDomains: true });
  return parsed.isIcann === true || parsed.isPrivate === true;
}

/** Whether a Domain attribute covers the host (RFC 6265's domain-match, a leading dot ignored). */
export function domainMatches(host: string, domain: string): boolean {
  const bare = domain.replace(/^\./, '').toLowerCase();
  const h = host.toLowerCase();
  return h === bare || h.endsWith(`.${bare}`);
}
