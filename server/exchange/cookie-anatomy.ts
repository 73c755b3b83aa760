// Takes session cookies apart: the request's Cookie header read exactly as express-session reads it
// (`getcookie` in its index.js), and Set-Cookie headers split into their attributes.
import cookie from 'cookie';
import signature from 'cookie-signature';

export interface CookieAnatomy {
  /** The value as it travels, URL-encoded (`s%3A...`). */
  raw: string;
  /** After URL-decoding: `s:<session id>.<signature>` when signed. */
  decoded: string;
  signed: boolean;
  sessionId: string | null;
  signature: string | null;
  /** Index in the secret list of the secret that verifies it; null when none does. */
  verifiedBy: number | null;
  verdict: 'valid' | 'bad-signature' | 'unsigned';
}

export interface RequestCookieReading {
  /** The sandbox's cookie taken apart, or null when the request carried none by that name. */
  anatomy: CookieAnatomy | null;
  /** The id express-session will look up (its `cookieId`), or undefined when it will start afresh. */
  cookieId: string | undefined;
  /** How many cookies of that name the header carried: only the first one counts. */
  sameNameCount: number;
}

export function readRequestCookie(header: string | undefined, name: string, secrets: readonly string[]): RequestCookieReading {
  if (!header) return { anatomy: null, cookieId: undefined, sameNameCount: 0 };
  const parsed = cookie.parse(header);
  const decoded = Object.hasOwn(parsed, name) ? parsed[name] : undefined;
  const raws = rawValuesNamed(header, name);
  const sameNameCount = raws.length;
  if (!decoded) return { anatomy: null, cookieId: undefined, sameNameCount };
  const anatomy = takeApart(raws[0] ?? decoded, decoded, secrets);
  return { anatomy, cookieId: anatomy.verdict === 'valid' ? anatomy.sessionId ?? undefined : undefined, sameNameCount };
}

/** Splits a decoded value the way express-session signs it: `s:` + id + `.` + signature. */
export function takeApart(raw: string, decoded: string, secrets: readonly string[]): CookieAnatomy {
  if (!decoded.startsWith('s:')) {
    return { raw, decoded, signed: false, sessionId: null, signature: null, verifiedBy: null, verdict: 'unsigned' };
  }
  const body = decoded.slice(2);
  const dot = body.lastIndexOf('.');
  const sessionId = dot === -1 ? body : body.slice(0, dot);
  const sig = dot === -1 ? null : body.slice(dot + 1);
  const verifiedBy = secrets.findIndex((secret) => signature.unsign(body, secret) !== false);
  return {
    raw,
    decoded,
    signed: true,
    sessionId,
    signature: sig,
    verifiedBy: verifiedBy === -1 ? null : verifiedBy,
    verdict: verifiedBy === -1 ? 'bad-signature' : 'valid',
  };
}

/** The raw values of every cookie called `name` in a Cookie header, in the header's order. */
export function rawValuesNamed(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

export interface SetCookieAttribute {
  name: string;
  value: string | null;
}

export interface ParsedSetCookie {
  header: string;
  name: string;
  value: string;
  attributes: SetCookieAttribute[];
  /** Convenience views of the attributes the lessons talk about. */
  expires: string | null;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string | null;
  domain: string | null;
  path: string | null;
  anatomy: CookieAnatomy;
}

export function parseSetCookie(header: string, secrets: readonly string[]): ParsedSetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
  const value = eq === -1 ? '' : pair.slice(eq + 1).trim();
  const attributes = rest.map((part) => {
    const at = part.indexOf('=');
    return at === -1 ? { name: part.trim(), value: null } : { name: part.slice(0, at).trim(), value: part.slice(at + 1).trim() };
  });
  const attr = (wanted: string) => attributes.find((a) => a.name.toLowerCase() === wanted);
  return {
    header,
    name,
    value,
    attributes,
    expires: attr('expires')?.value ?? null,
    httpOnly: attr('httponly') !== undefined,
    secure: attr('secure') !== undefined,
    sameSite: attr('samesite')?.value ?? null,
    domain: attr('domain')?.value ?? null,
    path: attr('path')?.value ?? null,
    anatomy: takeApart(value, safeDecode(value), secrets),
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The names of the cookies in a Cookie header, each once. */
export function cookieNames(header: string | undefined): string[] {
  if (!header) return [];
  return [...new Set(header.split(';').map((pair) => pair.split('=')[0]!.trim()).filter(Boolean))];
}

/**
 * The header with the value of every cookie called `name` replaced by a marker: the lab's own
 * session cookie is HttpOnly and names a learner's progress, so no page or API shows its value.
 */
export function hideValueOf(header: string, name: string): string {
  return header
    .split(';')
    .map((pair) => (pair.slice(0, pair.indexOf('=')).trim() === name ? `${pair.slice(0, pair.indexOf('=') + 1)}(hidden: the lab's own session)` : pair))
    .join(';');
}
