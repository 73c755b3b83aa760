// Reads JSON text from outside (request bodies, uploaded progress) into values, with every object
// key as it was written.
//
// Why not JSON.parse alone: V8 (Node 24 and 26 alike, nodejs/node#63785, crbug 521080746) can
// decode an escaped one-character key wrongly once a key "\\" has been parsed in an object of the
// same shape: {"a":1,"\t":2} then reads back as {"a":1,"\\":2}. Only texts with a backslash can
// carry an escaped key, so those are read by the small strict reader below; every other text
// (nearly all of them) keeps the native parser.
import type { RequestHandler } from 'express';
import iconv from 'iconv-lite';
import { HttpError } from './http-error.ts';

export class JsonTextError extends SyntaxError {}

/** JSON.parse's result, with escaped keys decoded correctly. Throws JsonTextError on invalid JSON. */
export function parseJsonText(text: string): unknown {
  if (!text.includes('\\')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new JsonTextError((err as Error).message);
    }
  }
  return new StrictReader(text).document();
}

/**
 * After express.json: a body whose raw text had a backslash is read again by parseJsonText. The
 * native parse has already vouched that it is valid JSON, and the text is decoded as express.json
 * decoded it; a text the two readers still disagree on is refused as express.json refuses invalid
 * JSON (a 400), never a 500. Pair it with `keepJsonText` as express.json's `verify`, which keeps
 * just those texts.
 */
export const rereadEscapedJson: RequestHandler = (req, _res, next) => {
  const text = (req as { escapedJsonText?: string }).escapedJsonText;
  if (text === undefined) return next();
  try {
    req.body = parseJsonText(text);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  next();
};

/**
 * express.json's `verify`: keeps the text of a body that has a backslash, for rereadEscapedJson.
 * Decoded with iconv-lite, as express.json itself decodes it: for "utf-16" without a byte order
 * mark it guesses the byte order, where TextDecoder would always read little-endian and see
 * another text. Only UTF-8 can be skipped on its bytes alone: in UTF-7 a backslash is "+AFw-".
 */
export function keepJsonText(req: object, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding === 'utf-8' && !body.includes(0x5c)) return;
  const text = iconv.decode(body, encoding);
  if (text.includes('\\')) (req as { escapedJsonText?: string }).escapedJsonText = text;
}

const WHITESPACE = /[ \t\n\r]*/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
/**
 * Far deeper than any option set, write or progress file nests; stops the recursion well before
 * the stack would overflow (JSON.parse itself would accept deeper text).
 */
const MAX_DEPTH = 512;

/** A recursive-descent reader of RFC 8259 JSON. Strings (keys included) are decoded by JSON.parse of the string token alone, which V8 gets right. */
class StrictReader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value(0);
    this.skipWhitespace();
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    this.skipWhitespace();
    const c = this.text[this.at];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, meaning] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return meaning;
      }
    }
    return this.number();
  }

  private object(depth: number): Record<string, unknown> {
    this.at++; // {
    const result: Record<string, unknown> = {};
    if (this.consume('}')) return result;
    do {
      this.skipWhitespace();
      if (this.text[this.at] !== '"') this.fail('expected a key in double quotes');
      const key = this.string();
      if (!this.consume(':')) this.fail('expected ":" after a key');
      // As JSON.parse: an own data property, "__proto__" included (plain assignment would set the prototype).
      Object.defineProperty(result, key, { value: this.value(depth + 1), writable: true, enumerable: true, configurable: true });
    } while (this.consume(','));
    if (!this.consume('}')) this.fail('expected "," or "}"');
    return result;
  }

  private array(depth: number): unknown[] {
    this.at++; // [
    const result: unknown[] = [];
    if (this.consume(']')) return result;
    do result.push(this.value(depth + 1));
    while (this.consume(','));
    if (!this.consume(']')) this.fail('expected "," or "]"');
    return result;
  }

  private string(): string {
    return JSON.parse(this.token(STRING, 'a string')) as string;
  }

  private number(): number {
    return Number(this.token(NUMBER, 'a value'));
  }

  private token(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.at;
    const match = pattern.exec(this.text);
    if (!match || match[0] === '') this.fail(`expected ${what}`);
    this.at += match[0].length;
    return match[0];
  }

  /** Skips whitespace, then takes `char` if it is next. */
  private consume(char: string): boolean {
    this.skipWhitespace();
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private fail(reason: string): never {
    throw new JsonTextError(`${reason} at position ${this.at}`);
  }
}

const LITERALS: [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];
