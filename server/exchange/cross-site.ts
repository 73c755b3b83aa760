// Requests another site sends to a sandbox (issue 13, "cross-site, for real"): the kinds the
// SameSite lesson talks about, what the browser said of each (Sec-Fetch-* and Origin, which it
// writes itself), and the grid cell each one fills: request kind × the SameSite of the cookie the
// browser held, green when the Cookie header that arrived carried it. Nothing here predicts what a
// browser does: the cell is read from the Cookie header the server received, and the column from
// the Set-Cookie whose value the browser sent (or, when it sent none, from the value the jar last
// saw it send under the sandbox's path).
import { CROSS_SITE_KINDS, GRID_SAME_SITE, type CrossSiteArrival, type CrossSiteKind, type Exchange, type GridCell, type GridSameSite } from '../sandbox/model.ts';

export { CROSS_SITE_KINDS, GRID_SAME_SITE, type CrossSiteArrival, type CrossSiteKind, type GridCell, type GridSameSite };
import { rawValuesNamed } from './cookie-anatomy.ts';

export const KIND_LABELS: Record<CrossSiteKind, { label: string; detail: string }> = {
  link: { label: 'Link', detail: 'a followed link: a top-level GET navigation' },
  form: { label: 'Form POST', detail: 'a form: a top-level POST navigation' },
  image: { label: 'Image', detail: '<img src>: a subresource' },
  iframe: { label: 'Iframe', detail: '<iframe src>: a frame inside the other site' },
  fetch: { label: 'fetch', detail: "fetch(url): credentials 'same-origin', the default" },
  'fetch-credentials': { label: 'fetch + credentials', detail: "fetch(url, { credentials: 'include' })" },
};

export function isCrossSiteKind(value: unknown): value is CrossSiteKind {
  return typeof value === 'string' && (CROSS_SITE_KINDS as readonly string[]).includes(value);
}

/** What the jar last saw the browser send under the sandbox's path (server/routes/sandboxes.ts), after which exchange. */
export interface HeldReading {
  name: string;
  afterExchange: number;
  values: string[];
  /** When the jar saw it (ms): a copy read from the database never replaces a newer one in memory. */
  at: number;
}

/** The SameSite column of a Set-Cookie's SameSite attribute. */
export function columnOf(sameSite: string | null): GridSameSite {
  const value = (sameSite ?? '').toLowerCase();
  return value === 'lax' || value === 'strict' || value === 'none' ? value : 'unset';
}

/** The newest exchange in `history` that sent a Set-Cookie named `name`. */
export function latestSetting(history: readonly Exchange[], name: string): Exchange | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.setCookieParsed.some((c) => c.name === name)) return history[i];
  return undefined;
}

/**
 * The cell a cross-site request fills. `cookieHeader` is the raw Cookie header the request carried;
 * `history` the sandbox's exchanges before it (oldest first); `held` the jar's latest reading.
 */
export function cellFor(kind: CrossSiteKind, name: string, cookieHeader: string | undefined, startedAt: number, history: readonly Exchange[], held: HeldReading | null): { cell: GridCell | null; words: string } {
  const carried = cookieHeader ? rawValuesNamed(cookieHeader, name)[0] : undefined;
  const setting = (value: string) => {
    // The newest Set-Cookie with that value gave the browser its attributes; the oldest one with it
    // made the cookie (Chromium keeps a cookie's creation time when it is set again with the same value).
    const matching = history.filter((ex) => ex.setCookieParsed.some((c) => c.name === name && c.value === value));
    const newest = matching.at(-1);
    const cookie = newest?.setCookieParsed.find((c) => c.name === name && c.value === value);
    return newest && cookie ? { newest, cookie, firstAt: Date.parse(matching[0]!.finishedAt) } : null;
  };
  const cellOf = (value: string, sent: boolean) => {
    const found = setting(value);
    if (!found) return null;
    const cell: GridCell = { kind, sameSite: columnOf(found.cookie.sameSite), sent, secure: found.cookie.secure, setBy: found.newest.number, ageMs: Math.max(0, startedAt - found.firstAt) };
    return cell;
  };
  if (carried !== undefined) {
    const cell = cellOf(carried, true);
    return cell
      ? { cell, words: `Your browser attached the ${name} cookie exchange #${cell.setBy} set (${label(cell.sameSite)}).` }
      : { cell: null, words: `Your browser attached a ${name} cookie the lab no longer has the Set-Cookie of (it keeps the latest exchanges only): press Regenerate, then send this again.` };
  }
  const latestSet = latestSetting(history, name);
  if (!latestSet) return { cell: null, words: `Your browser sent no ${name} cookie, and the sandbox has set none yet: press Write on your sandbox page first.` };
  if (!held || held.name !== name || held.afterExchange < latestSet.number) {
    return {
      cell: null,
      words: `Your browser sent no ${name} cookie. The lab has not seen which cookie your browser holds since exchange #${latestSet.number} set one (your sandbox page asks after every exchange): open it, then send this again.`,
    };
  }
  const value = held.values[0];
  if (value === undefined) return { cell: null, words: `Your browser sent no ${name} cookie, and it holds none for the sandbox (the last one was refused, cleared or expired): press Write or Regenerate first.` };
  const cell = cellOf(value, false);
  return cell
    ? { cell, words: `Your browser held the ${name} cookie exchange #${cell.setBy} set (${label(cell.sameSite)}) and did not attach it.` }
    : { cell: null, words: `Your browser sent no ${name} cookie; the one it holds was set longer ago than the lab's history goes back: press Regenerate first.` };
}

function label(sameSite: GridSameSite): string {
  return sameSite === 'unset' ? 'no SameSite attribute' : `SameSite=${sameSite === 'lax' ? 'Lax' : sameSite === 'strict' ? 'Strict' : 'None'}`;
}

/**
 * Why the browser attached the cookie or not, from the rules it applies (RFC 6265bis and
 * Chromium's): an explanation beside the observed cell, never the verdict. `expected` is what
 * the rules say (null where they leave it to a browser setting); where the browser did otherwise,
 * the words say the observation wins.
 */
export function explainCell(cell: GridCell): { why: string; expected: boolean | null } {
  const navigation = cell.kind === 'link' || cell.kind === 'form';
  const rule = ((): { why: string; expected: boolean | null } => {
    if (cell.kind === 'fetch') return { why: "A fetch without credentials: 'include' sends no cookies to another origin, whatever their SameSite.", expected: false };
    if (cell.sameSite === 'strict') return { why: 'SameSite=Strict: the browser sends it on no request another site starts, not even a followed link.', expected: false };
    if (cell.sameSite === 'none') {
      if (!cell.secure) return { why: 'SameSite=None without Secure: browsers refuse such a cookie, so it cannot have been this one.', expected: null };
      if (navigation) return { why: 'SameSite=None; Secure: sent on every request, and a top-level navigation carries it even where third-party cookies are blocked.', expected: true };
      return { why: "SameSite=None; Secure: allowed on another site's images, frames and credentialed fetches, but there it is a third-party cookie: sent only if the browser allows those (Chromium blocks them in incognito windows, and where its setting says so).", expected: null };
    }
    const lax = cell.sameSite === 'lax' ? 'SameSite=Lax' : 'No SameSite attribute: Chromium treats the cookie as Lax';
    if (cell.kind === 'link') return { why: `${lax}, which goes along on a top-level GET navigation from another site.`, expected: true };
    if (cell.kind === 'form') {
      if (cell.sameSite === 'lax') return { why: "SameSite=Lax: never sent on another site's POST, even a top-level one (explicit Lax gets no allowance).", expected: false };
      const age = Math.round(cell.ageMs / 1000);
      return cell.ageMs < 120_000
        ? { why: `${lax}, with one allowance ("Lax+POST"): a cookie with no SameSite goes along on a top-level cross-site POST for two minutes after it was set; this one was about ${age} s old.`, expected: true }
        : { why: `${lax}; its two-minute "Lax+POST" allowance for top-level POSTs has run out (the cookie was about ${age} s old).`, expected: false };
    }
    return { why: `${lax}, which is withheld from another site's images, frames and fetches.`, expected: false };
  })();
  if (rule.expected !== null && rule.expected !== cell.sent) {
    return { why: `${rule.why} Your browser did otherwise: what it did is what counts.`, expected: rule.expected };
  }
  return rule;
}

/** The browser's own account of a request: its Sec-Fetch-* and Origin headers. */
export function fetchMetadata(header: (name: string) => string | undefined): Pick<CrossSiteArrival, 'fetchSite' | 'fetchMode' | 'fetchDest' | 'origin'> {
  // Shown, never trusted for anything: short and printable, or nothing.
  const clean = (value: string | undefined) => (value !== undefined && /^[\x20-\x7e]{1,200}$/.test(value) ? value : null);
  return { fetchSite: clean(header('sec-fetch-site')), fetchMode: clean(header('sec-fetch-mode')), fetchDest: clean(header('sec-fetch-dest')), origin: clean(header('origin')) };
}

/** A grid: for each kind and column, the latest cell, or null. */
export type Grid = Record<CrossSiteKind, Record<GridSameSite, GridCell | null>>;

export function emptyGrid(): Grid {
  return Object.fromEntries(CROSS_SITE_KINDS.map((kind) => [kind, Object.fromEntries(GRID_SAME_SITE.map((s) => [s, null]))])) as Grid;
}
