// A browser without a page for the lesson replay: real HTTP requests to the app, sent as htmx
// sends them, with the cookies kept in a real cookie jar (tough-cookie: expiry, Path, Domain and
// Secure as RFC 6265 has them) plus the one Chromium rule the jar lacks.
import { Cookie, CookieJar } from 'tough-cookie';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export class ReplayBrowser {
  private readonly jar = new CookieJar();

  constructor(private readonly baseUrl: string) {}

  /** A page load: a plain GET, as the address bar sends it. */
  open(path: string): Promise<Answer> {
    return this.send('GET', path, null, false);
  }

  /** What htmx sends for a form: GET with the fields in the query, POST with them urlencoded; `extra` headers as a page script adds them. */
  submit(method: 'GET' | 'POST', path: string, fields: Record<string, string> = {}, extra: Record<string, string> = {}): Promise<Answer> {
    const query = new URLSearchParams(fields).toString();
    if (method === 'GET') return this.send('GET', query ? `${path}?${query}` : path, null, true, extra);
    return this.send('POST', path, query, true, extra);
  }

  /** What document.cookie shows a page at `path`: the cookies sent there, HttpOnly ones left out. */
  documentCookie(path: string): Promise<string> {
    return this.jar.getCookieString(new URL(path, this.baseUrl).href, { http: false });
  }

  private async send(method: string, path: string, body: string | null, htmx: boolean, extra: Record<string, string> = {}): Promise<Answer> {
    const url = new URL(path, this.baseUrl).href;
    const headers: Record<string, string> = { ...extra, accept: 'text/html' };
    if (htmx) headers['hx-request'] = 'true';
    if (body !== null) headers['content-type'] = 'application/x-www-form-urlencoded';
    const cookies = await this.jar.getCookieString(url);
    if (cookies) headers.cookie = cookies;
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    for (const header of res.headers.getSetCookie()) await this.keep(header, url);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** Stores a Set-Cookie the way a browser would, refusing what a browser refuses. */
  private async keep(header: string, url: string): Promise<void> {
    const cookie = Cookie.parse(header);
    if (!cookie) return;
    // Chromium refuses SameSite=None without Secure (RFC 6265bis); tough-cookie would keep it.
    if (cookie.sameSite === 'none' && !cookie.secure) return;
    // The jar refuses the rest itself (a Domain that does not cover the host, say); a browser drops
    // such a cookie without a word, so no error either.
    await this.jar.setCookie(cookie, url, { ignoreError: true });
  }
}
