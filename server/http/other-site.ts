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
  /** The learner's own site and the other one, as the browser reckons them, for the page to say. */
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
  let other: string | null = null;
  if (configured && !sameSite(configured, host)) other = configured;
  else if (host === 'localhost') other = '127.0.0.1';
  else if (host === '127.0.0.1') other = 'localhost';
  if (!other) {
    return {
      reason: configured
        ? `OTHER_SITE_HOST (${configured}) is the same site as ${host} to a browser (both are ${siteOf(host)}): name a host under another registrable domain`
        : `this lab has no second site for ${host}: its operator sets OTHER_SITE_HOST to another name of this server (on one machine, open the lab at localhost or 127.0.0.1)`,
    };
  }
  return { origin: `${req.protocol}://${other}${port ? `:${port}` : ''}`, host: other, site: siteOf(host), otherSite: siteOf(other) };
}

export function hasOtherSite(found: OtherSite | NoOtherSite): found is OtherSite {
  return 'origin' in found;
}

/** The port of a Host header ("localhost:3000", "[::1]:3000"), or '' when it names none. */
function portOf(hostHeader: string): string {
  const match = /:(\d{1,5})$/.exec(hostHeader);
  return match ? match[1]! : '';
}
