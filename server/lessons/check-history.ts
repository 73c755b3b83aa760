// What came before an exchange, for the conditions that look back in time: the cookie last set
// under its name, whether that cookie expired, and whether the server restarted since its session
// was saved. Only the recorded exchanges (and restarts) are seen.
import type { Exchange } from '../sandbox/model.ts';
import { isRefusal } from '../exchange/browser-notes.ts';

/** The browser note predicting that the browser refuses the exchange's cookie, if any. */
export function refusalOf(ex: Exchange): string | undefined {
  return ex.browserNotes.find(isRefusal)?.replace(/\.$/, '');
}

/** The exchanges recorded before `ex` that had finished when it started, newest first. */
function earlier(ex: Exchange, exchanges: readonly Exchange[]): Exchange[] {
  const started = Date.parse(ex.startedAt);
  const at = exchanges.indexOf(ex);
  return (at === -1 ? [...exchanges] : exchanges.slice(0, at)).filter((e) => e !== ex && Date.parse(e.finishedAt) <= started).reverse();
}

/** The newest exchange before `ex` whose response set a cookie under `ex`'s cookie name, with that Set-Cookie. */
export function lastSetCookieBefore(ex: Exchange, exchanges: readonly Exchange[]): { exchange: Exchange; cookie: Exchange['setCookieParsed'][number] } | null {
  for (const exchange of earlier(ex, exchanges)) {
    const cookie = exchange.setCookieParsed.find((c) => c.name === ex.options.name);
    if (cookie) return { exchange, cookie };
  }
  return null;
}

/** Whether the request lacked its cookie because the last one set had expired, and why not in words. */
export function cookieExpiry(ex: Exchange, exchanges: readonly Exchange[]): { expired: boolean; words: string } {
  const name = ex.options.name;
  if (ex.requestCookieAnatomy) return { expired: false, words: `the request carried a "${name}" cookie, so none had expired` };
  const last = lastSetCookieBefore(ex, exchanges);
  if (!last) return { expired: false, words: `no response before it had set a "${name}" cookie that could expire` };
  const { exchange, cookie } = last;
  const set = `the last "${name}" cookie set before it (exchange #${exchange.number}, ${exchange.action})`;
  if (cookie.expires === null) return { expired: false, words: `${set} had no Expires: a browser-session cookie, which no clock expires` };
  const refused = refusalOf(exchange);
  if (refused) return { expired: false, words: `${set} was refused by the browser, not kept until it expired: ${refused}` };
  const expires = Date.parse(cookie.expires);
  if (!(expires > Date.parse(exchange.finishedAt))) return { expired: false, words: `${set} had an Expires already past when it was sent: the browser deleted it at once, nothing expired while you waited` };
  if (expires > Date.parse(ex.startedAt)) return { expired: false, words: `${set} expires at ${cookie.expires}, after this request started` };
  return { expired: true, words: `${set} expired at ${cookie.expires}` };
}

/** Whether the server restarted between the last save of the request's session and the request, and why not in words. */
export function restartBetween(ex: Exchange, exchanges: readonly Exchange[], restarts: readonly number[]): { restarted: boolean; words: string } {
  const sid = ex.requestCookieAnatomy?.verdict === 'valid' ? ex.requestCookieAnatomy.sessionId : null;
  if (!sid) return { restarted: false, words: "the request carried no valid cookie naming a session, so no restart could have lost or kept one" };
  const before = earlier(ex, exchanges);
  const saved = before.find((e) => e.storeCalls.some((call) => call.op === 'set' && call.sid === sid && call.ok === true));
  if (!saved) return { restarted: false, words: 'no request before it saved the session its cookie names' };
  const from = Date.parse(saved.finishedAt);
  const restart = restarts.find((at) => at >= from && at <= Date.parse(ex.startedAt));
  if (restart === undefined) return { restarted: false, words: `the server did not restart between exchange #${saved.number} (${saved.action}), which saved the session, and this request` };
  // After the save (log order is the order exchanges finished), before the restart.
  const destroyed = before
    .slice(0, before.indexOf(saved))
    .reverse()
    .find((e) => Date.parse(e.startedAt) <= restart && e.storeCalls.some((call) => call.op === 'destroy' && call.sid === sid));
  if (destroyed) return { restarted: false, words: `exchange #${destroyed.number} (${destroyed.action}) destroyed the session before the server restarted` };
  return { restarted: true, words: `the server restarted after exchange #${saved.number} (${saved.action}) saved the session` };
}
