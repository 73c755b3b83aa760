// express-session's own MemoryStore, with its sessions held by the sandbox rather than the store,
// so a rebuilt middleware (options changed) keeps the sessions, as one long-running process would.
import session from 'express-session';
import type { SessionData } from 'express-session';

/** What MemoryStore keeps: session id to the session serialized as JSON. */
export type MemorySessions = Record<string, string>;

type Callback<T = void> = (err?: unknown, result?: T) => void;

/**
 * Every call goes to a real MemoryStore. It wraps one rather than extending it: express-session
 * prints its "MemoryStore is not designed for a production environment" warning for each
 * middleware whose store is a MemoryStore, so in production the log would get one for every
 * sandbox built. Here the memory store is what the learner chose to study.
 */
export class LabMemoryStore extends session.Store {
  private readonly memory = new session.MemoryStore();

  constructor(private readonly sessions: MemorySessions) {
    super();
    (this.memory as unknown as { sessions: MemorySessions }).sessions = sessions;
  }

  override get(sid: string, callback: Callback<SessionData | null>): void {
    this.memory.get(sid, callback);
  }

  override set(sid: string, data: SessionData, callback?: Callback): void {
    this.memory.set(sid, data, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    this.memory.destroy(sid, callback);
  }

  override touch(sid: string, data: SessionData, callback?: Callback): void {
    this.memory.touch(sid, data, callback);
  }

  override all(callback: Callback<SessionData[] | { [sid: string]: SessionData } | null>): void {
    this.memory.all(callback);
  }

  override length(callback: Callback<number>): void {
    this.memory.length(callback);
  }

  override clear(callback?: Callback): void {
    // MemoryStore's clear() swaps in a new object; the sandbox keeps this one, so empty it in place.
    for (const sid of Object.keys(this.sessions)) delete this.sessions[sid];
    if (callback) setImmediate(callback);
  }

  /** The stored session exactly as held, for the inspector: no expiry check, no side effect. */
  async peek(sid: string): Promise<SessionData | null> {
    const json = this.sessions[sid];
    return json === undefined ? null : (JSON.parse(json) as SessionData);
  }
}

export function emptyMemorySessions(): MemorySessions {
  return Object.create(null) as MemorySessions;
}
