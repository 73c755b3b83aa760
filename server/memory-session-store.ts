// express-session's own MemoryStore, with its sessions held by the sandbox rather than the store,
// so a rebuilt middleware (options changed) keeps the sessions, as one long-running process would.
import session from 'express-session';
import type { SessionData } from 'express-session';

/** What MemoryStore keeps: session id to the session serialized as JSON. */
export type MemorySessions = Record<string, string>;

export class LabMemoryStore extends session.MemoryStore {
  constructor(sessions: MemorySessions) {
    super();
    (this as unknown as { sessions: MemorySessions }).sessions = sessions;
  }

  /** The stored session exactly as held, for the inspector: no expiry check, no side effect. */
  async peek(sid: string): Promise<SessionData | null> {
    const json = (this as unknown as { sessions: MemorySessions }).sessions[sid];
    return json === undefined ? null : (JSON.parse(json) as SessionData);
  }
}

export function emptyMemorySessions(): MemorySessions {
  return Object.create(null) as MemorySessions;
}
