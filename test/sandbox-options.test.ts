// validateOptions and toSessionOptions: the article's defaults, normalization, one refusal per kind
// of bad input (each naming its field), and a property-style check that whatever is accepted can be
// handed to express-session and serialized by the `cookie` package without throwing.
// Long because it is one table of refusals, a case per field and kind of bad value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import session from 'express-session';
import type { Request } from 'express';
import cookie from 'cookie';
import signature from 'cookie-signature';
import {
  articleOptions,
  LIMITS,
  OptionsError,
  SITE_COOKIE_NAME,
  toSessionOptions,
  validateOptions,
  type SandboxOptions,
} from '../server/sandbox/options.ts';

/** Asserts that validateOptions refuses the input with an OptionsError naming `field`. */
function assertRefused(input: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => validateOptions(input),
    (err: unknown) => {
      assert.ok(err instanceof OptionsError, `expected an OptionsError, got ${String(err)}`);
      assert.equal(err.field, field);
      assert.ok(err.message.length > 0);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('validateOptions: the defaults', () => {
  it('an empty object gives the article\'s configuration', () => {
    const options = validateOptions({});
    assert.deepEqual(options, {
      name: 'mycookie',
      secret: ['cookiesaregood'],
      cookie: { maxAge: 3_600_000, secure: false, httpOnly: true, sameSite: false, domain: null },
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'keep',
      proxy: null,
      store: 'memory',
      corsOrigin: 'off',
      corsCredentials: false,
    });
    assert.deepEqual(options, articleOptions);
  });

  it('returns a fresh object: changing the result never changes the defaults', () => {
    const options = validateOptions({});
    options.secret.push('another');
    options.cookie.maxAge = 1;
    assert.deepEqual(articleOptions.secret, ['cookiesaregood']);
    assert.equal(articleOptions.cookie.maxAge, 3_600_000);
  });

  it('a partial patch keeps every other option, also inside cookie', () => {
    const options = validateOptions({ resave: true, cookie: { sameSite: 'lax' } });
    assert.equal(options.resave, true);
    assert.equal(options.cookie.sameSite, 'lax');
    assert.equal(options.cookie.maxAge, 3_600_000);
    assert.equal(options.cookie.httpOnly, true);
    assert.equal(options.name, 'mycookie');
  });

  it('applies a patch over the base it is given, not over the defaults', () => {
    const base = validateOptions({ name: 'sid', rolling: true, cookie: { maxAge: null } });
    const options = validateOptions({ resave: true }, base);
    assert.equal(options.name, 'sid');
    assert.equal(options.rolling, true);
    assert.equal(options.cookie.maxAge, null);
    assert.equal(options.resave, true);
  });

  it('accepts every option at once', () => {
    const options = validateOptions({
      name: 'lab.sid',
      secret: ['new', 'old'],
      cookie: { maxAge: 0, secure: 'auto', httpOnly: false, sameSite: 'none', domain: 'example.com' },
      resave: true,
      saveUninitialized: true,
      rolling: true,
      unset: 'destroy',
      proxy: true,
      store: 'database',
    });
    assert.equal(options.name, 'lab.sid');
    assert.deepEqual(options.secret, ['new', 'old']);
    assert.deepEqual(options.cookie, { maxAge: 0, secure: 'auto', httpOnly: false, sameSite: 'none', domain: 'example.com' });
    assert.equal(options.unset, 'destroy');
    assert.equal(options.proxy, true);
    assert.equal(options.store, 'database');
  });
});

describe('validateOptions: normalization', () => {
  it('a single secret string becomes a one-item list', () => {
    assert.deepEqual(validateOptions({ secret: 'keyboard cat' }).secret, ['keyboard cat']);
  });

  it('a secret list keeps its order (the first signs, all verify)', () => {
    assert.deepEqual(validateOptions({ secret: ['b', 'a', 'c'] }).secret, ['b', 'a', 'c']);
  });

  it('sameSite strings are case-insensitive and stored lower-case', () => {
    assert.equal(validateOptions({ cookie: { sameSite: 'Lax' } }).cookie.sameSite, 'lax');
    assert.equal(validateOptions({ cookie: { sameSite: 'STRICT' } }).cookie.sameSite, 'strict');
    assert.equal(validateOptions({ cookie: { sameSite: 'None' } }).cookie.sameSite, 'none');
    assert.equal(validateOptions({ cookie: { sameSite: 'Auto' } }).cookie.sameSite, 'auto');
  });

  it('sameSite true stays true (express-session sends Strict), null means not sent', () => {
    assert.equal(validateOptions({ cookie: { sameSite: true } }).cookie.sameSite, true);
    assert.equal(validateOptions({ cookie: { sameSite: null } }).cookie.sameSite, false);
  });

  it('a domain is lower-cased, and an empty domain means none', () => {
    assert.equal(validateOptions({ cookie: { domain: 'Example.COM' } }).cookie.domain, 'example.com');
    assert.equal(validateOptions({ cookie: { domain: '.sub.example.com' } }).cookie.domain, '.sub.example.com');
    assert.equal(validateOptions({ cookie: { domain: '' } }).cookie.domain, null);
  });

  it('maxAge null is a browser-session cookie; the largest allowed value is accepted', () => {
    assert.equal(validateOptions({ cookie: { maxAge: null } }).cookie.maxAge, null);
    assert.equal(validateOptions({ cookie: { maxAge: LIMITS.maxAge } }).cookie.maxAge, LIMITS.maxAge);
  });
});

describe('validateOptions: bad input names the field', () => {
  describe('name', () => {
    for (const [label, name] of [
      ['a space', 'my cookie'],
      ['a semicolon', 'my;cookie'],
      ['an equals sign', 'my=cookie'],
      ['a comma', 'my,cookie'],
      ['a double quote', 'my"cookie'],
      ['brackets', 'my(cookie)'],
      ['a non-ASCII letter', 'cöokie'],
      ['a control character', 'my\ncookie'],
    ] as const) {
      it(`refuses a cookie name with ${label}`, () => assertRefused({ name }, 'name', /letters, digits/));
    }

    it('refuses an empty name', () => assertRefused({ name: '' }, 'name', /non-empty/));
    it('refuses a name that is not a string', () => assertRefused({ name: 42 }, 'name'));
    it('refuses a name longer than the limit', () => assertRefused({ name: 'a'.repeat(LIMITS.nameLength + 1) }, 'name', /at most/));

    it(`refuses the lab's own session cookie name "${SITE_COOKIE_NAME}"`, () => {
      assertRefused({ name: SITE_COOKIE_NAME }, 'name', /lab's own session cookie/);
    });
  });

  describe('secret', () => {
    it('refuses an empty secret', () => assertRefused({ secret: '' }, 'secret', /empty/));
    it('refuses a secret of only spaces', () => assertRefused({ secret: '   ' }, 'secret', /empty/));
    it('refuses an empty secret list', () => assertRefused({ secret: [] }, 'secret', /at least one/));
    it('refuses a non-string secret in the list, naming its index', () => assertRefused({ secret: ['ok', 42] }, 'secret[1]', /string/));
    it('refuses an empty secret in the list, naming its index', () => assertRefused({ secret: ['ok', 'fine', ''] }, 'secret[2]', /empty/));
    it('refuses a secret that is neither a string nor a list', () => assertRefused({ secret: { a: 1 } }, 'secret', /string/));
    it('refuses more secrets than the limit', () => assertRefused({ secret: Array.from({ length: LIMITS.secrets + 1 }, (_, i) => `s${i}`) }, 'secret', /at most/));
    it('refuses a secret longer than the limit', () => assertRefused({ secret: 'x'.repeat(LIMITS.secretLength + 1) }, 'secret', /at most/));
  });

  describe('cookie.maxAge', () => {
    it('refuses a negative maxAge', () => assertRefused({ cookie: { maxAge: -1 } }, 'cookie.maxAge', /negative/));
    it('refuses a maxAge that is not a whole number of milliseconds', () => assertRefused({ cookie: { maxAge: 1.5 } }, 'cookie.maxAge', /whole number/));
    it('refuses a maxAge given as a string', () => assertRefused({ cookie: { maxAge: '3600000' } }, 'cookie.maxAge', /whole number/));
    it('refuses a maxAge past ten years', () => assertRefused({ cookie: { maxAge: LIMITS.maxAge + 1 } }, 'cookie.maxAge', /at most/));
    it('refuses NaN and Infinity', () => {
      assertRefused({ cookie: { maxAge: Number.NaN } }, 'cookie.maxAge');
      assertRefused({ cookie: { maxAge: Number.POSITIVE_INFINITY } }, 'cookie.maxAge');
    });
    it('refuses a boolean maxAge', () => assertRefused({ cookie: { maxAge: true } }, 'cookie.maxAge'));
  });

  describe('cookie.sameSite', () => {
    it('refuses an unknown sameSite value', () => assertRefused({ cookie: { sameSite: 'relaxed' } }, 'cookie.sameSite'));
    it('refuses a number', () => assertRefused({ cookie: { sameSite: 1 } }, 'cookie.sameSite'));
  });

  describe('cookie.secure', () => {
    it('refuses the string "true"', () => assertRefused({ cookie: { secure: 'true' } }, 'cookie.secure'));
    it('refuses "Auto" in another case', () => assertRefused({ cookie: { secure: 'AUTO' } }, 'cookie.secure'));
    it('refuses null', () => assertRefused({ cookie: { secure: null } }, 'cookie.secure'));
  });

  describe('cookie.httpOnly and the other booleans', () => {
    for (const field of ['resave', 'saveUninitialized', 'rolling'] as const) {
      it(`refuses a non-boolean ${field}`, () => assertRefused({ [field]: 'true' }, field, /true or false/));
    }
    it('refuses a non-boolean cookie.httpOnly', () => assertRefused({ cookie: { httpOnly: 1 } }, 'cookie.httpOnly'));
  });

  describe('cookie.domain', () => {
    for (const domain of ['exa mple.com', 'example.com;', 'http://example.com', '-example.com', 'example..com', 'a'.repeat(64) + '.com']) {
      it(`refuses the domain ${JSON.stringify(domain.length > 30 ? domain.slice(0, 20) + '…' : domain)}`, () => assertRefused({ cookie: { domain } }, 'cookie.domain'));
    }
    it('refuses a domain longer than 253 characters', () => {
      const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
      assertRefused({ cookie: { domain: long } }, 'cookie.domain');
    });
    it('refuses a non-string domain', () => assertRefused({ cookie: { domain: 7 } }, 'cookie.domain'));
  });

  describe('unknown and fixed options', () => {
    it('refuses an unknown top-level option, naming it', () => assertRefused({ genid: 'x' }, 'genid', /unknown option/));
    it('refuses a misspelt option rather than ignoring it', () => assertRefused({ saveUnitialized: true }, 'saveUnitialized', /unknown option/));
    it('refuses "__proto__" as an option name', () => assertRefused(JSON.parse('{"__proto__": {"resave": true}}'), '__proto__'));
    it('refuses cookie.path: it is fixed to the sandbox\'s own path', () => assertRefused({ cookie: { path: '/' } }, 'cookie.path', /fixed/));
    it('refuses an unknown cookie option, naming it', () => assertRefused({ cookie: { partitioned: true } }, 'cookie.partitioned', /unknown cookie option/));
    it('refuses cookie when it is not an object', () => {
      assertRefused({ cookie: 'maxAge=1' }, 'cookie');
      assertRefused({ cookie: null }, 'cookie');
      assertRefused({ cookie: [] }, 'cookie');
    });
  });

  describe('store, unset and proxy', () => {
    it('refuses an unknown store', () => assertRefused({ store: 'mongodb' }, 'store', /"memory", "database", "redis"/));
    it('reads "sqlite" and "postgres" (the names of the database store\'s engines) as the database store', () => {
      assert.equal(validateOptions({ store: 'sqlite' }).store, 'database');
      assert.equal(validateOptions({ store: 'postgres' }).store, 'database');
    });
    it('refuses an unknown unset', () => assertRefused({ unset: 'delete' }, 'unset', /"keep", "destroy"/));
    it('refuses proxy given as a string', () => assertRefused({ proxy: 'true' }, 'proxy'));
    it('refuses proxy given as a number', () => assertRefused({ proxy: 1 }, 'proxy'));
  });

  describe('the options themselves', () => {
    for (const [label, input] of [
      ['null', null],
      ['undefined', undefined],
      ['an array', [{ name: 'x' }]],
      ['a string', 'name=x'],
      ['a number', 42],
    ] as const) {
      it(`refuses ${label} instead of an options object`, () => assertRefused(input, 'options', /object/));
    }
  });
});

describe('toSessionOptions: what express-session is given', () => {
  const store = new session.MemoryStore();

  it('the article\'s options, with the sandbox path fencing the cookie in', () => {
    const result = toSessionOptions(validateOptions({}), '/sandbox/abc', store);
    assert.deepEqual(result, {
      name: 'mycookie',
      secret: ['cookiesaregood'],
      cookie: { path: '/sandbox/abc', httpOnly: true, secure: false, maxAge: 3_600_000 },
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'keep',
      store,
    });
  });

  it('leaves out maxAge when it is null, so the cookie has no Expires', () => {
    const result = toSessionOptions(validateOptions({ cookie: { maxAge: null } }), '/sandbox/abc', store);
    assert.ok(result.cookie && !('maxAge' in result.cookie));
  });

  it('leaves out sameSite when false, and domain when null', () => {
    const result = toSessionOptions(validateOptions({}), '/sandbox/abc', store);
    assert.ok(result.cookie && !('sameSite' in result.cookie) && !('domain' in result.cookie));
  });

  it('passes sameSite, domain and secure "auto" through', () => {
    const result = toSessionOptions(validateOptions({ cookie: { sameSite: 'Strict', domain: 'example.com', secure: 'auto' } }), '/p', store);
    assert.deepEqual(result.cookie, { path: '/p', httpOnly: true, secure: 'auto', maxAge: 3_600_000, sameSite: 'strict', domain: 'example.com' });
  });

  it('leaves proxy out when null (Express\'s trust proxy decides), passes true and false', () => {
    assert.ok(!('proxy' in toSessionOptions(validateOptions({}), '/p', store)));
    assert.equal(toSessionOptions(validateOptions({ proxy: true }), '/p', store).proxy, true);
    assert.equal(toSessionOptions(validateOptions({ proxy: false }), '/p', store).proxy, false);
  });

  it('always gives resave and saveUninitialized explicitly (no deprecation warning, no default of true)', () => {
    const result = toSessionOptions(validateOptions({}), '/p', store);
    assert.equal(typeof result.resave, 'boolean');
    assert.equal(typeof result.saveUninitialized, 'boolean');
  });
});

// ---------------------------------------------------------------------------------------------
// Property-style: every accepted options object can reach express-session and the `cookie` package.

/** A small deterministic PRNG (mulberry32), so a failure always reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const candidates = {
  name: ['mycookie', 'connect.sid', 'a', "!#$%&'*+-.^_`|~", '__Host-sid', '__Secure-x', 'my cookie', 'a;b', 'a=b', 'a,b', 'a"b', '', 'cookielab.sid', 'é', 'x'.repeat(64), 'x'.repeat(65), 'a\tb', '{a}', 7],
  secret: ['s', 'cookiesaregood', ['new', 'old'], [], [''], ['ok', 3], ' ', 'ünïcødé secret ✓', ['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c', 'd', 'e', 'f'], null],
  maxAge: [null, 0, 1, 1000, 3_600_000, LIMITS.maxAge, LIMITS.maxAge + 1, -1, 1.5, '1000', Number.MAX_SAFE_INTEGER, true],
  secure: [true, false, 'auto', 'true', 1, null],
  httpOnly: [true, false, 'yes'],
  sameSite: [false, true, null, 'lax', 'strict', 'none', 'auto', 'Lax', 'NONE', 'relaxed', '', 0],
  domain: [null, '', 'example.com', 'EXAMPLE.com', '.example.com', 'localhost', '127.0.0.1', 'a-b.c-d.e', 'ex ample.com', 'example.com;', '-a.com', 'a..b', 'x'.repeat(63) + '.com', 'x'.repeat(64) + '.com', 'exämple.com', 5],
  bool: [true, false, 'false'],
  unset: ['keep', 'destroy', 'delete'],
  proxy: [null, true, false, 'true'],
  store: ['memory', 'database', 'sqlite', 'redis', 'mongodb'],
};

function pickFrom<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

/** A random patch: each option present about half the time, drawn from good and bad values. */
function randomPatch(rand: () => number): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const maybe = (key: string, list: readonly unknown[], into: Record<string, unknown> = patch) => {
    if (rand() < 0.5) into[key] = pickFrom(rand, list);
  };
  maybe('name', candidates.name);
  maybe('secret', candidates.secret);
  const cookieOptions: Record<string, unknown> = {};
  maybe('maxAge', candidates.maxAge, cookieOptions);
  maybe('secure', candidates.secure, cookieOptions);
  maybe('httpOnly', candidates.httpOnly, cookieOptions);
  maybe('sameSite', candidates.sameSite, cookieOptions);
  maybe('domain', candidates.domain, cookieOptions);
  if (Object.keys(cookieOptions).length > 0) patch.cookie = cookieOptions;
  maybe('resave', candidates.bool);
  maybe('saveUninitialized', candidates.bool);
  maybe('rolling', candidates.bool);
  maybe('unset', candidates.unset);
  maybe('proxy', candidates.proxy);
  maybe('store', candidates.store);
  return patch;
}

/**
 * Builds the real middleware, then does what it does for a new session: store.generate (which
 * resolves secure/sameSite "auto" for this request) and setcookie's cookie.serialize(name, 's:' +
 * signed id, req.session.cookie.data). Throws whatever express-session or `cookie` would throw.
 */
function serializeLikeExpressSession(options: SandboxOptions, requestIsHttps: boolean): string {
  // express-session adds generate() to the store it is given; @types/express-session does not list it.
  const store = new session.MemoryStore() as session.MemoryStore & { generate(req: Request): void };
  session(toSessionOptions(options, '/sandbox/AAAAAAAAAAAAAAAAAAAAAA', store));
  const fakeRequest = () => ({ headers: {}, connection: { encrypted: requestIsHttps }, socket: { encrypted: requestIsHttps }, secure: requestIsHttps }) as unknown as Request;
  const serializeFor = (req: Request, secret: string) => {
    req.session.touch();
    const data = (req.session.cookie as unknown as { data: cookie.CookieSerializeOptions }).data;
    return cookie.serialize(options.name, `s:${signature.sign(req.sessionID, secret)}`, data);
  };
  const req = fakeRequest();
  store.generate(req);
  const header = serializeFor(req, options.secret[0]!);
  // And again as a returning visitor's session, inflated from its JSON the way the store does it.
  const again = fakeRequest();
  again.sessionID = req.sessionID;
  store.createSession(again, JSON.parse(JSON.stringify(req.session)) as Parameters<typeof store.createSession>[1]);
  serializeFor(again, options.secret.at(-1)!);
  return header;
}

describe('property: whatever validateOptions accepts, express-session and cookie.serialize accept', () => {
  it('the article\'s options serialize to the expected Set-Cookie shape', () => {
    const header = serializeLikeExpressSession(validateOptions({}), false);
    assert.match(header, /^mycookie=s%3A[\w-]{32}\.[\w%+/-]+; Path=\/sandbox\/A{22}; Expires=[^;]+ GMT; HttpOnly$/);
  });

  it('a hand-picked set of edge values, over HTTP and HTTPS', () => {
    const edges: unknown[] = [
      { name: "!#$%&'*+-.^_`|~" },
      { name: 'x'.repeat(LIMITS.nameLength) },
      { cookie: { maxAge: 0 } },
      { cookie: { maxAge: LIMITS.maxAge } },
      { cookie: { maxAge: null, sameSite: 'auto', secure: 'auto' } },
      { cookie: { sameSite: true, domain: 'x'.repeat(63) + '.com' } },
      { cookie: { sameSite: 'NONE', secure: true, domain: '.example.com' } },
      { secret: ['ünïcødé ✓', 'x'.repeat(LIMITS.secretLength)] },
      { proxy: true, cookie: { secure: 'auto', sameSite: 'auto' } },
    ];
    for (const input of edges) {
      const options = validateOptions(input);
      for (const https of [false, true]) {
        assert.doesNotThrow(() => serializeLikeExpressSession(options, https), `options ${JSON.stringify(input)} over ${https ? 'HTTPS' : 'HTTP'}`);
      }
    }
  });

  it('2000 random inputs: each is either refused with an OptionsError or serializes without throwing', () => {
    const rand = random(20240601);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const patch = randomPatch(rand);
      let options: SandboxOptions;
      try {
        options = validateOptions(patch);
      } catch (err) {
        assert.ok(err instanceof OptionsError, `input ${JSON.stringify(patch)} threw ${String(err)} instead of an OptionsError`);
        refused++;
        continue;
      }
      accepted++;
      for (const https of [false, true]) {
        let header = '';
        assert.doesNotThrow(() => {
          header = serializeLikeExpressSession(options, https);
        }, `accepted options ${JSON.stringify(patch)} threw over ${https ? 'HTTPS' : 'HTTP'}`);
        assert.ok(header.startsWith(`${options.name}=s%3A`), header);
      }
      // Validating the result again is a fixed point: normalization is idempotent.
      assert.deepEqual(validateOptions(JSON.parse(JSON.stringify(options))), options);
    }
    assert.ok(accepted > 100, `only ${accepted} accepted: the generator should produce more good inputs`);
    assert.ok(refused > 100, `only ${refused} refused: the generator should produce more bad inputs`);
  });
});
