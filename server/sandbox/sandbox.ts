// One sandbox: its options, the live express-session middleware built from them, the store
// instance that middleware was given, and the history of exchanges it answered.
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import type { MemorySessions } from '../stores/memory-session-store.ts';
import type { Exchange } from './model.ts';
import type { SandboxOptions } from './options.ts';

/** What the inspector asks of a sandbox's store: the session as it is held, without side effects. */
export interface InspectableStore {
  peek(sid: string): Promise<SessionData | null>;
}

/** 128 bits from the CSPRNG, base64url: 22 characters, safe in a URL path and a cookie path. */
const SANDBOX_ID = /^[A-Za-z0-9_-]{22}$/;

export function isSandboxId(value: string): boolean {
  return SANDBOX_ID.test(value);
}

export function sandboxPath(id: string): string {
  return `/sandbox/${id}`;
}

/** The latest exchanges, numbered from 1 in the order they were recorded, at most `limit` kept. */
export class ExchangeLog {
  private readonly kept: Exchange[] = [];
  private next = 1;

  constructor(readonly limit: number) {}

  /** Newest last. */
  get all(): readonly Exchange[] {
    return this.kept;
  }

  get latest(): Exchange | null {
    return this.kept.at(-1) ?? null;
  }

  /** The number the next exchange gets: taken as it is recorded, so numbers follow the order exchanges finished. */
  takeNumber(): number {
    return this.next++;
  }

  push(exchange: Exchange): void {
    this.kept.push(exchange);
    if (this.kept.length > this.limit) this.kept.shift();
  }
}

export interface SandboxState {
  options: SandboxOptions;
  middleware: RequestHandler;
  store: InspectableStore;
  /** The options row's updated_at this middleware was built from. */
  builtFrom: number;
}

export class Sandbox {
  readonly path: string;
  options: SandboxOptions;
  middleware: RequestHandler;
  store: InspectableStore;
  builtFrom: number;
  readonly history: ExchangeLog;
  /** The generation of the database's watch on sandboxes' options the options were read or written in (-1: read them again). */
  generation: number;
  /** When this process last recorded the sandbox's use in the database. */
  usedWrittenAt = 0;
  /**
   * What document.cookie held on the learner's page when they last looked, and when, and the names
   * of the cookies the browser sent with that reading (it comes under the sandbox's path) (null: never).
   */
  probe: { value: string; at: number; sent: string[] } | null = null;
  /** The latest exchange's number when the learner last cleared the sandbox's cookies (null: not since). */
  cookiesClearedAfter: number | null = null;
  /** When this sandbox's server was restarted (ms since the epoch), oldest first: the latest ones only. */
  readonly restarts: number[] = [];

  constructor(
    readonly id: string,
    state: SandboxState,
    /** A memory store's sessions outlive middleware rebuilds, but not eviction (like a process restart). */
    readonly memorySessions: MemorySessions,
    exchangeLimit: number,
    generation: number,
  ) {
    this.path = sandboxPath(id);
    this.options = state.options;
    this.middleware = state.middleware;
    this.store = state.store;
    this.builtFrom = state.builtFrom;
    this.history = new ExchangeLog(exchangeLimit);
    this.generation = generation;
  }

  /** Newest last. */
  get exchanges(): readonly Exchange[] {
    return this.history.all;
  }

  /** Remembers a restart, for lesson checks (as many as the exchanges it keeps, the newest). */
  noteRestart(at: number): void {
    this.restarts.push(at);
    if (this.restarts.length > this.history.limit) this.restarts.shift();
  }

  /** Puts a middleware built from new options (or the same, after a restart) in place of the old one. */
  adopt(state: SandboxState): void {
    this.options = state.options;
    this.middleware = state.middleware;
    this.store = state.store;
    this.builtFrom = state.builtFrom;
  }
}
