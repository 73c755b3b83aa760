// The lab's second site: this same server under another name, which the browser treats as another
// site, so the cross-site lessons send real cross-site requests. A browser's "site" is the scheme
// and the registrable domain (the name one label below its public suffix), port ignored: so
// localhost and 127.0.0.1 are two sites on one machine, and lab.example.org and
// other.example.org are one. A classroom server names its second site with OTHER_SITE_HOST (a
// name that also reaches this server and is not same-site with the first).
import type { Request } from 'express';
import { parse as parseHost } from 'tldts';

export interface OtherSite {
  /** The other site's origin, e.g. http://127.0.0.1:3000: the learner's scheme and port. */
  origin: string;
  host: string;
  /** The learner's own host, site and the other site, as the browser reckons them, for the page to say. */
  fromHost: string;
  site: string;
  otherSite: string;
}

export interface NoOtherSite {
  /** Why there is none, and what to set. */
  reason: string;
}

/** The browser's site of a host: its registrable domain, or the host itself (an IP, localhost, a bare name). */
export function siteOf(host: string): string {
  const parsed = parseHost(host.toLowerCase(), { allowPrivateDomains: true });
  if (parsed.isIp) return host.toLowerCase();
  return parsed.domain ?? host.toLowerCase();
}

export function sameSite(hostA: string, hostB: string): boolean {
  return siteOf(hostA) === siteOf(hostB);
}

/**
 * The second site for the learner who sent `req`: OTHER_SITE_HOST when it is set and is another
 * site than the learner's; else, on one machine, 127.0.0.1 for localhost and localhost for
 * 127.0.0.1. The port is the one the learner used (the same server answers both names).
 */
export function otherSiteFor(req: Request, configured: string | null): OtherSite | NoOtherSite {
  const host = req.hostname.toLowerCase();
  const port = portOf(req.get('host') ?? '');
  const other = otherHostFor(host, configured);
  if (!other) {
    return {
      reason: configured
        ? `OTHER_SITE_HOST (${configured}) is the same site as ${host} to a browser (both are ${siteOf(host)}): name a host under another registrable domain`
        : `this lab has no second site for ${host}: its operator sets OTHER_SITE_HOST to another name of this server (on one machine, open the lab at localhost or 127.0.0.1)`,
    };
  }
  return { origin: `${req.protocol}://${other}${port ? `:${port}` : ''}`, host: other, fromHost: host, site: siteOf(host), otherSite: siteOf(other) };
}

/** The second site's host for a learner on `host`, or null when there is none. */
export function otherHostFor(host: string, configured: string | null): string | null {
  if (configured && !sameSite(configured, host)) return configured;
  if (host === 'localhost') return '127.0.0.1';
  if (host === '127.0.0.1') return 'localhost';
  return null;
}

/**
 * The learner's own origin, seen from the second site's page: `labHost` (from the page's link) is
 * taken only when this page's host is the second site of it, so the page never sends requests to a
 * host the lab would not have linked to it from.
 */
export function labOriginFor(req: Request, labHost: unknown, configured: string | null): string | null {
  if (typeof labHost !== 'string' || labHost.length > 253 || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(labHost)) return null;
  const lab = labHost.toLowerCase();
  if (otherHostFor(lab, configured) !== req.hostname.toLowerCase()) return null;
  const port = portOf(req.get('host') ?? '');
  return `${req.protocol}://${lab}${port ? `:${port}` : ''}`;
}

export function hasOtherSite(found: OtherSite | NoOtherSite): found is OtherSite {
  return 'origin' in found;
}

/** The port of a Host header ("localhost:3000", "[::1]:3000"), or '' when it names none. */
function portOf(hostHeader: string): string {
  const match = /:(\d{1,5})$/.exec(hostHeader);
  return match ? match[1]! : '';
}
