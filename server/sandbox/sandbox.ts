// One sandbox: its options, the live express-session middleware built from them, the store
// instance that middleware was given, and the history of exchanges it answered.
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import type { MemorySessions } from '../stores/memory-session-store.ts';
import type { Exchange } from './model.ts';
import type { SandboxOptions } from './options.ts';
import type { ProbeReading, SandboxState as SharedState } from './sandbox-records.ts';
import type { Engine } from '../db/dialect.ts';
import type { HeldReading } from '../exchange/cross-site.ts';

/** What the inspector asks of a sandbox's store: the session as it is held, without side effects. */
export interface InspectableStore {
  peek(sid: string): Promise<SessionData | null>;
}

export interface AvailableStores {
  database: Engine;
  redis: boolean;
}

/** 128 bits from the CSPRNG, base64url: 22 characters, safe in a URL path and a cookie path. */
const SANDBOX_ID = /^[A-Za-z0-9_-]{22}$/;

export function isSandboxId(value: string): boolean {
  return SANDBOX_ID.test(value);
}

export function sandboxPath(id: string): string {
  return `/sandbox/${id}`;
}

/**
 * This instance's copy of the sandbox's latest exchanges (the database holds them: see
 * sandbox-records.ts), numbered from 1 in the order they were recorded, at most `limit` kept.
 */
export class ExchangeLog {
  private kept: Exchange[] = [];
  /** Every exchange numbered up to this one has been seen (recorded here or read back). */
  private seenUpTo = 0;
  /** The numbers of kept exchanges that only this instance holds (the database could not take them). */
  private readonly unstored = new Set<number>();

  constructor(readonly limit: number) {}

  /** Newest last. */
  get all(): readonly Exchange[] {
    return this.kept;
  }

  get latest(): Exchange | null {
    return this.kept.at(-1) ?? null;
  }

  /** Below this number nothing is missing: what another instance recorded is numbered above it. */
  get complete(): number {
    return this.seenUpTo;
  }

  /**
   * Takes in exchanges (recorded here, or read from the database), in number order, without
   * duplicates. `stored: false`: an exchange the database could not take, shown by this instance
   * only; its number is a guess that the next stored exchange takes over.
   */
  add(exchanges: readonly Exchange[], { stored = true } = {}): void {
    if (exchanges.length === 0) return;
    const byNumber = new Map(this.kept.map((e) => [e.number, e]));
    for (const exchange of exchanges) {
      byNumber.set(exchange.number, exchange);
      if (stored) this.unstored.delete(exchange.number);
      else this.unstored.add(exchange.number);
    }
    this.kept = [...byNumber.values()].sort((a, b) => a.number - b.number).slice(-this.limit);
    // Numbers are consecutive: the first gap is where another instance's exchange is still unread.
    const numbers = new Set([...byNumber.keys()].filter((n) => !this.unstored.has(n)));
    if (numbers.size === 0) return;
    // Exchanges older than the oldest held are gone for good: nothing below it is worth reading.
    this.seenUpTo = Math.max(this.seenUpTo, Math.min(...numbers) - 1);
    while (numbers.has(this.seenUpTo + 1)) this.seenUpTo++;
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
  probe: ProbeReading | null = null;
  /** The latest exchange's number when the learner last cleared the sandbox's cookies (null: not since). */
  cookiesClearedAfter: number | null = null;
  /**
   * What the jar (GET <sandbox>/jar) last saw the browser send under the sandbox's name, after which
   * exchange: which cookie the browser held when a cross-site request arrives without one.
   */
  heldReading: HeldReading | null = null;
  /** When this sandbox's server was restarted (ms since the epoch), oldest first: the latest ones only. */
  restarts: number[] = [];
  /** The generations of the database's watch on exchanges and on the rest of the shared state when this copy was last brought up to date. */
  synced = { exchanges: -1, state: -1 };

  constructor(
    readonly id: string,
    state: SandboxState,
    /** A memory store's sessions outlive middleware rebuilds, but not eviction (like a process restart). */
    readonly memorySessions: MemorySessions,
    exchangeLimit: number,
    generation: number,
    /** The stores this lab offers: the engine behind 'database' (the code panel shows its published store), and whether it has Redis. */
    readonly stores: AvailableStores = { database: 'sqlite', redis: false },
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

  /** Takes in the shared state as the database holds it. */
  adoptState(state: SharedState): void {
    this.probe = state.probe;
    this.cookiesClearedAfter = state.cookiesClearedAfter;
    // A state row read while the jar's newer reading was being written must not undo it.
    if (state.held && (!this.heldReading || state.held.at >= this.heldReading.at)) this.heldReading = state.held;
    this.restarts = state.restarts;
  }

  /** Puts a middleware built from new options (or the same, after a restart) in place of the old one. */
  adopt(state: SandboxState): void {
    this.options = state.options;
    this.middleware = state.middleware;
    this.store = state.store;
    this.builtFrom = state.builtFrom;
  }
}
