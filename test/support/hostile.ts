// Generators (fast-check) for hostile input: JSON whose objects may carry keys like __proto__ (kept
// as real keys by writing the JSON text by hand), strings from awkward alphabets, option sets.
import fc from 'fast-check';

/**
 * fast-check's settings for one property: `runs` cases, times FUZZ_SCALE (FUZZ_SCALE=10 for a
 * long hunt), from seed FC_SEED when given (fast-check prints the seed of a failure), stopping at
 * the first failure so its message is the one shown.
 */
export function fuzzRuns(runs: number): fc.Parameters<unknown> {
  const scale = Number(process.env.FUZZ_SCALE ?? 1);
  const seed = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };
  return { numRuns: Math.max(10, Math.round(runs * (Number.isFinite(scale) && scale > 0 ? scale : 1))), endOnFailure: true, ...seed };
}

/** A JSON object as an ordered list of entries, so that "__proto__" stays an ordinary key. */
export class JsonObject {
  constructor(readonly entries: [string, JsonValue][]) {}
}
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

export function toJsonText(value: JsonValue): string {
  if (value instanceof JsonObject) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  // JSON has no NaN or Infinity: they would be written as null by JSON.stringify.
  return JSON.stringify(value) ?? 'null';
}

export const obj = (entries: Record<string, JsonValue>): JsonObject => new JsonObject(Object.entries(entries));

/** Names that mean something to JavaScript objects, express-session, pug or the lab. */
export const SPECIAL_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'cookie',
  'id',
  'req',
  'save',
  'reload',
  'regenerate',
  'destroy',
  'touch',
  'resetMaxAge',
  'basedir',
  'filename',
  'self',
  'debug',
  'compileDebug',
  'globals',
  'pretty',
  'cache',
  'polluted',
  'then',
  'length',
  'path',
  'cookielab.sid',
  'connect.sid',
];

const MARKUP = ['<script>alert(1)</script>', '"><img src=x onerror=alert(7)>', "'><svg onload=alert(7)>", '{{7*7}}', '#{7*7}', '${7*7}', '`', '\\', '</textarea>'];

/** Strings that tend to break parsers and templates. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...MARKUP) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\u0000', '%', '%E0%A4%A', '%00', ';', ',', '=', '"', "'", 's:', 's%3A', '\u2028', '\uFEFF', '\uD800', '😀', 'İ', 'ﬀ', '１２３', '٣', 'NaN', 'Infinity', '-0', '1e400', '0x10', 'null', 'true', 'on'),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 12 }).map((n) => 'a'.repeat(2 ** n)) },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e21, -1e21, Number.MAX_VALUE, Number.MIN_VALUE, 315360000000, 315360000001),
);

/** Objects that String() and a template literal throw on ("Cannot convert object to primitive value"). */
const UNPRINTABLE: JsonObject[] = [
  new JsonObject([['toString', null]]),
  new JsonObject([['toString', null], ['__proto__', false]]),
  new JsonObject([['toString', new JsonObject([])], ['valueOf', []]]),
];

/** Any JSON value, with objects whose keys may be special names. */
export const anyJson: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.constantFrom(...UNPRINTABLE),
    fc.boolean(),
    nastyNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(nastyString, fc.constantFrom(...SPECIAL_NAMES)), tie('value')), { maxLength: 4 }).map((entries) => new JsonObject(entries)),
  ),
})).value;

const cookieNameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));

/** Mostly a good value, sometimes a hostile one. */
const mostly = (good: fc.Arbitrary<JsonValue>, bad: fc.Arbitrary<JsonValue> = anyJson): fc.Arbitrary<JsonValue> =>
  fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: bad });

const optionName = mostly(
  fc.oneof(
    { weight: 5, arbitrary: fc.string({ unit: cookieNameChars, minLength: 1, maxLength: 70 }) },
    { weight: 2, arbitrary: fc.constantFrom('mycookie', 'sid', 'connect.sid', 'cookielab.sid', '__Host-sid', '__Secure-sid', 'a.b') },
    // Names that are also properties of every JavaScript object.
    { weight: 1, arbitrary: fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf') },
  ),
  nastyString,
);

const secretValue = mostly(
  fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.array(fc.oneof({ weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) }, { weight: 1, arbitrary: nastyString }), { maxLength: 6 })),
);

const domainValue = mostly(
  fc.constantFrom(null, '', 'example.com', '.example.com', 'localhost', '127.0.0.1', 'EXAMPLE.com', 'xn--bcher-kva.example', 'a-b.example'),
  fc.oneof(fc.constantFrom('a..b', '-a.com', 'a-.com', 'ex ample.com', 'a'.repeat(64) + '.com', `${'a.'.repeat(130)}com`, 'exa_mple.com', 'bücher.example', 'example.com.', 'a;b', 'a\nb'), nastyString),
);

const entriesOf = (parts: Record<string, fc.Arbitrary<JsonValue>>): fc.Arbitrary<[string, JsonValue][]> =>
  fc.record(parts, { requiredKeys: [] }).map((record) => Object.entries(record) as [string, JsonValue][]);

/** Now and then, keys the schema does not have (often names that mean something to JavaScript). */
const extraEntries: fc.Arbitrary<[string, JsonValue][]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<[string, JsonValue][]>([]) },
  { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SPECIAL_NAMES), nastyString), anyJson), { minLength: 1, maxLength: 2 }) },
);

const cookieOptions: fc.Arbitrary<JsonValue> = mostly(
  fc
    .tuple(
      entriesOf({
        maxAge: mostly(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 10 * 365 * 24 * 3600 * 1000 })), fc.oneof(nastyNumber, anyJson)),
        secure: mostly(fc.constantFrom<JsonValue>(true, false, 'auto'), fc.oneof(fc.constantFrom<JsonValue>('AUTO', 'true', 1, null), anyJson)),
        httpOnly: mostly(fc.boolean()),
        sameSite: mostly(fc.constantFrom<JsonValue>(false, true, null, 'lax', 'Lax', 'strict', 'STRICT', 'none', 'auto'), fc.oneof(fc.constantFrom<JsonValue>('bogus', 1, ''), anyJson)),
        domain: domainValue,
      }),
      fc.oneof({ weight: 9, arbitrary: fc.constant<[string, JsonValue][]>([]) }, { weight: 1, arbitrary: fc.constantFrom<[string, JsonValue][]>([['path', '/']], [['path', '/sandbox']]) }),
      extraEntries,
    )
    .map(([known, path, extra]) => new JsonObject([...known, ...path, ...extra])),
);

/** One option set as express-session takes them: mostly plausible, often hostile somewhere. */
export const optionSet: fc.Arbitrary<JsonObject> = fc
  .tuple(
    entriesOf({
      name: optionName,
      secret: secretValue,
      cookie: cookieOptions,
      resave: mostly(fc.boolean()),
      saveUninitialized: mostly(fc.boolean()),
      rolling: mostly(fc.boolean()),
      unset: mostly(fc.constantFrom<JsonValue>('keep', 'destroy'), fc.constantFrom<JsonValue>('Keep', 'delete', null, '')),
      proxy: mostly(fc.constantFrom<JsonValue>(null, true, false), fc.constantFrom<JsonValue>('true', 1, 'null')),
      store: mostly(fc.constantFrom<JsonValue>('memory', 'database', 'sqlite'), fc.constantFrom<JsonValue>('mongodb', 'SQLITE', '', null)),
    }),
    extraEntries,
  )
  .map(([known, extra]) => new JsonObject([...known, ...extra]));
