// What the browser did with the sandbox's cookie, observed rather than predicted: the browser asks
// the jar route (under the sandbox's path, with no session middleware) right after an exchange, and
// the Cookie header of that request is the browser's own verdict on the exchange's Set-Cookie.
import { parseSetCookie, rawValuesNamed, type ParsedSetCookie } from './cookie-anatomy.ts';
import { browserNotes, isRefusal } from './browser-notes.ts';
import type { Exchange } from '../sandbox/model.ts';

export type JarVerdict = 'stored' | 'kept' | 'replaced' | 'refused' | 'deleted' | 'expired' | 'unchanged' | 'no-exchange';

export interface JarObservation {
  /** The exchange the verdict is about (the sandbox's latest), or null before the first. */
  exchangeNumber: number | null;
  /** The raw Cookie header of the jar request, or null when the browser sent none. */
  cookieHeader: string | null;
  /** The values the browser sends under the sandbox cookie's name, in its order: express-session reads the first. */
  sent: string[];
  verdict: JarVerdict;
  /** The verdict in words. */
  words: string;
  /** Where the lab's prediction (browser notes) and the browser disagree, said in words; else null. */
  disagreement: string | null;
  /** What page JavaScript under the sandbox's path saw (document.cookie), when the page told us. */
  documentCookie: string | null;
}

/**
 * The verdict on `latest` from the cookies the browser sends now. `clearedAfter` is the number of
 * the exchange after which the learner pressed "Clear my cookie" (null if they did not since).
 */
export function observeJar(latest: Exchange | null, name: string, cookieHeader: string | null, documentCookie: string | null, clearedAfter: number | null = null): JarObservation {
  const sent = valuesNamed(cookieHeader, name);
  const base = { exchangeNumber: latest?.number ?? null, cookieHeader, sent, documentCookie, disagreement: null };
  const now = sent.length === 0 ? `sends no ${name} cookie` : sent.length === 1 ? `sends ${name}=${sent[0]}` : `sends ${sent.length} cookies named ${name}`;
  if (!latest) return { ...base, verdict: 'no-exchange', words: `No exchange yet: your browser ${now}.` };
  if (clearedAfter === latest.number) {
    return sent.length
      ? { ...base, verdict: 'unchanged', words: `You cleared the sandbox's cookies after exchange #${latest.number}, but your browser still sends ${sent.length} cookie(s) named ${name}.` }
      : { ...base, verdict: 'deleted', words: `You cleared the sandbox's cookies after exchange #${latest.number}: your browser deleted them and now sends no ${name} cookie.` };
  }
  const setCookie = latest.setCookie.map((header) => parseSetCookie(header, latest.options.secret)).filter((cookie) => cookie.name === name).at(-1);
  const before = valuesNamed(latest.requestCookie, name)[0] ?? null;
  const sameName =
    sent.length > 1 ? ` Your browser sends ${sent.length} cookies named ${name} (different Path or Domain): express-session reads only the first, ${sent[0]}.` : '';
  if (!setCookie) {
    return { ...base, verdict: 'unchanged', words: `Exchange #${latest.number} sent no Set-Cookie for ${name}, so your browser kept what it had: it ${now}.${sameName}` };
  }
  const predicted = browserNotes(setCookie, latest.host, latest.connectionSecure).filter(isRefusal);
  if (isDeletion(setCookie, Date.parse(latest.finishedAt))) {
    const gone = !sent.includes(setCookie.value);
    // Kept all the same: Chromium reckons Expires against the response's Date header (clock skew),
    // and an Expires in the same second as Date is not yet past to it. Observed beats predicted.
    return {
      ...base,
      verdict: gone ? 'deleted' : 'stored',
      words: gone
        ? `Exchange #${latest.number}'s Set-Cookie had an Expires in the past: your browser deleted the cookie and now ${now}.${sameName}`
        : `Exchange #${latest.number}'s Set-Cookie had an Expires already past by the server's clock, yet your browser stored the cookie (it reckons Expires against the response's Date header): it ${now}.${sameName}`,
    };
  }
  if (!sent.includes(setCookie.value) && setCookie.expires !== null && Date.parse(setCookie.expires) <= Date.now()) {
    return {
      ...base,
      verdict: 'expired',
      words: `The cookie exchange #${latest.number} set has expired since (Expires ${setCookie.expires}): your browser dropped it and now ${now}.${sameName}`,
    };
  }
  if (sent.includes(setCookie.value)) {
    const verdict: JarVerdict = before === setCookie.value ? 'kept' : before === null ? 'stored' : 'replaced';
    const words =
      verdict === 'kept'
        ? `Your browser kept the cookie exchange #${latest.number} sent again (same value, new attributes such as Expires) and ${now}.`
        : verdict === 'stored'
          ? `Your browser stored the cookie exchange #${latest.number} set, and now ${now}.`
          : `Your browser replaced its old ${name} cookie with the one exchange #${latest.number} set, and now ${now}.`;
    const disagreement = predicted.length ? `The lab predicted a refusal (${predicted.join(' ')}), but your browser kept the cookie: what the browser did is what counts.` : null;
    return { ...base, verdict, words: words + sameName, disagreement };
  }
  const disagreement = predicted.length
    ? null
    : 'The lab did not predict this refusal from the Set-Cookie alone; the browser\'s verdict stands (it may apply a rule the lab does not model).';
  return {
    ...base,
    verdict: 'refused',
    words: `Your browser refused the cookie exchange #${latest.number} set: it ${now}.${predicted.length ? ` Why: ${predicted.join(' ')}` : ''}${sameName}`,
    disagreement,
  };
}

/** A Set-Cookie that asked the browser to delete the cookie: already expired when it was sent. */
function isDeletion(cookie: ParsedSetCookie, sentAt: number): boolean {
  const maxAge = cookie.attributes.find((a) => a.name.toLowerCase() === 'max-age')?.value;
  if (maxAge !== undefined && maxAge !== null && Number(maxAge) <= 0) return true;
  return cookie.expires !== null && Date.parse(cookie.expires) <= sentAt;
}

function valuesNamed(header: string | null, name: string): string[] {
  return header ? rawValuesNamed(header, name) : [];
}
