// Sandboxes: their options and what they recorded in the database, and for the recently used ones
// a live express-session middleware (built once per options change, evicted least-recently-used)
// and a copy of their latest exchanges, brought up to date when another instance adds to them.
// Long because it is the one place that keeps a sandbox's live parts and its stored parts in step.
import { randomBytes } from 'node:crypto';
import session from 'express-session';
import type { Database, Generations } from '../db/database.ts';
import { OptionsError, toSessionOptions, validateOptions, type SandboxOptions } from './options.ts';
import { DatabaseSessionStore } from '../stores/database-session-store.ts';
import { LabRedisStore, deleteSandboxKeys } from '../stores/redis-session-store.ts';
import { MissingStore } from '../stores/missing-store.ts';
import type { RedisConnection } from '../stores/redis-connection.ts';
import { LabMemoryStore, emptyMemorySessions, type MemorySessions } from '../stores/memory-session-store.ts';
import { recordStoreCalls } from '../exchange/store-calls.ts';
import { Sandbox, isSandboxId, sandboxPath, type SandboxState } from './sandbox.ts';
import { SandboxRecords, type ProbeReading, type SandboxState as RecordedState } from './sandbox-records.ts';
import type { Exchange } from './model.ts';
import { latestSetting, type Grid, type GridCell, type HeldReading } from '../exchange/cross-site.ts';

export interface RegistryLimits {
  /** Live middlewares held at once. */
  liveSandboxes: number;
  exchangesPerSandbox: number;
}

export const defaultRegistryLimits: RegistryLimits = { liveSandboxes: 2000, exchangesPerSandbox: 20 };

export class SandboxRegistry {
  private readonly live = new Map<string, Sandbox>();
  /**
   * Each memory-store sandbox's sessions, kept apart from the live middlewares: evicting an idle
   * middleware (another learner creating sandboxes) must not wipe a learner's sessions. Emptied
   * by a restart, removed with the sandbox.
   */
  private readonly memorySessionsById = new Map<string, MemorySessions>();
  /** The latest restart each memory store has been through (another instance's restart empties it too). */
  private readonly restartApplied = new Map<string, number>();
  private readonly loading = new Map<string, Promise<Sandbox | null>>();

  readonly limits: RegistryLimits;
  private readonly records: SandboxRecords;
  /** Change when another instance may have changed a sandbox's options (or deleted it), its exchanges, or the rest of what it recorded. */
  private readonly optionChanges: Generations;
  private readonly exchangeChanges: Generations;
  private readonly stateChanges: Generations;

  constructor(
    private readonly db: Database,
    limits: Partial<RegistryLimits> = {},
    /** The lab's Redis (REDIS_URL), for sandboxes that choose store: 'redis'; null: none. */
    private readonly redis: RedisConnection | null = null,
  ) {
    this.limits = { ...defaultRegistryLimits, ...limits };
    this.records = new SandboxRecords(db, this.limits.exchangesPerSandbox);
    this.optionChanges = db.changes('sandboxes');
    this.exchangeChanges = db.changes('exchanges');
    this.stateChanges = db.changes('sandbox_state');
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Refuses a store this lab does not have (store: 'redis' without REDIS_URL), naming the field. */
  checkAvailable(options: SandboxOptions): SandboxOptions {
    if (options.store === 'redis' && !this.redis) throw new OptionsError('store', "store: 'redis' needs a Redis server, and this lab has none (its operator sets REDIS_URL)");
    return options;
  }

  async create(options: SandboxOptions): Promise<Sandbox> {
    this.checkAvailable(options);
    const id = randomBytes(16).toString('base64url');
    const now = Date.now();
    const generation = await this.optionChanges.generation();
    await this.db.run('INSERT INTO sandboxes (id, options, created_at, updated_at) VALUES (?, ?, ?, ?)', [id, JSON.stringify(options), now, now]);
    return this.remember(this.newSandbox(id, options, now, generation));
  }

  /**
   * The sandbox, or null when no sandbox has that id. What it recorded is as this instance last
   * heard of it: another instance's additions show within a second (SQLite) or at once (PostgreSQL).
   */
  async find(id: string): Promise<Sandbox | null> {
    const sandbox = await this.lookup(id);
    if (sandbox) {
      await this.sync(sandbox, false);
      this.noteUse(sandbox);
    }
    return sandbox;
  }

  /**
   * Brings the sandbox's exchanges and the rest of what it recorded up to date with the database
   * itself, without waiting to hear of another instance's change: for what lesson checks and the
   * API read (a learner's next request may reach another instance a moment after the last one).
   */
  async current(sandbox: Sandbox): Promise<Sandbox> {
    await this.sync(sandbox, true);
    return sandbox;
  }

  /**
   * Stores an exchange, numbering it, and adds it to the sandbox's history. When the lab's own
   * database fails, the learner still sees what happened (it did happen), with why it was not kept.
   */
  async recordExchange(sandbox: Sandbox, exchange: Exchange): Promise<void> {
    try {
      exchange.number = await this.records.record(sandbox.id, exchange);
      sandbox.history.add([exchange]);
    } catch (err) {
      exchange.number = (sandbox.history.latest?.number ?? 0) + 1;
      const why = `the lab could not keep this exchange in its own database (${(err as Error).message}): only the server instance that answered shows it, and lesson checks elsewhere will not see it`;
      exchange.error = exchange.error ? `${exchange.error}; ${why}` : why;
      sandbox.history.add([exchange], { stored: false });
    }
  }

  /** Remembers what document.cookie showed the learner's page (lesson checks read it). */
  async noteProbe(sandbox: Sandbox, probe: ProbeReading): Promise<void> {
    sandbox.probe = probe;
    await this.records.saveProbe(sandbox.id, probe);
  }

  /** Remembers that the learner cleared the sandbox's cookies, after its latest exchange. */
  async noteCookiesCleared(sandbox: Sandbox): Promise<void> {
    sandbox.cookiesClearedAfter = sandbox.history.latest?.number ?? 0;
    await this.records.saveCookiesCleared(sandbox.id, sandbox.cookiesClearedAfter);
  }

  /**
   * Remembers which cookie the jar saw the browser send, where every instance sees it. Written only
   * when it tells cellFor something new: other cookies, or a reading after a Set-Cookie the stored
   * one predates (the jar is read after every exchange; most exchanges change neither).
   */
  async noteHeld(sandbox: Sandbox, held: HeldReading): Promise<void> {
    const known = sandbox.heldReading;
    const setSince = (latestSetting(sandbox.exchanges, held.name)?.number ?? 0) > (known?.afterExchange ?? -1);
    if (known && known.name === held.name && JSON.stringify(known.values) === JSON.stringify(held.values) && !setSince) return;
    sandbox.heldReading = held;
    await this.records.saveHeld(sandbox.id, held);
  }

  /** Fills a cell of the sandbox's cross-site grid. */
  async saveCrossSiteCell(sandbox: Sandbox, cell: GridCell): Promise<void> {
    await this.records.saveCell(sandbox.id, cell, Date.now());
  }

  /** The sandbox's cross-site grid, as the database holds it (any instance may have filled it). */
  crossSiteGrid(sandbox: Sandbox): Promise<Grid> {
    return this.records.grid(sandbox.id);
  }

  clearCrossSiteGrid(sandbox: Sandbox): Promise<void> {
    return this.records.clearGrid(sandbox.id);
  }

  /** Deletes a sandbox that nobody used (one that lost a race to become a lesson's sandbox: it has no Redis keys). */
  async remove(id: string): Promise<void> {
    this.forget([id]);
    await this.db.run('DELETE FROM sessions WHERE namespace = ?', [id]);
    await this.db.run('DELETE FROM sandboxes WHERE id = ?', [id]);
    await this.records.forget(id);
  }

  /** Drops live sandboxes whose rows were deleted (by the clean-up). */
  forget(ids: readonly string[]): void {
    for (const id of ids) {
      this.live.delete(id);
      this.memorySessionsById.delete(id);
      this.restartApplied.delete(id);
    }
  }

  /**
   * Deletes what a deleted sandbox recorded (the clean-up), and its sessions in Redis when it was on
   * Redis: best effort, since Redis deletes them at their TTL anyway, and a Redis outage must not
   * stop the clean-up of the rest.
   */
  async forgetRecords(id: string, onRedis: boolean): Promise<void> {
    await this.records.forget(id);
    if (!this.redis || !onRedis) return;
    await deleteSandboxKeys(this.redis, id).catch((err: unknown) => console.error(`clean-up: sandbox ${id}'s Redis keys stay until their TTL (${(err as Error).message})`));
  }

  /** Every memory store's sessions, by sandbox id, for housekeeping (expired ones are dropped). */
  memoryStores(): IterableIterator<MemorySessions> {
    return this.memorySessionsById.values();
  }

  /** Every live sandbox, for housekeeping. */
  liveSandboxes(): IterableIterator<Sandbox> {
    return this.live.values();
  }

  private async lookup(id: string): Promise<Sandbox | null> {
    if (!isSandboxId(id)) return null;
    // Another app process may have changed the options or deleted the sandbox. Whether anything
    // changed elsewhere is one query for the whole process, at most every three quarters of a
    // second (see server/db/data-version.ts and notifications.ts).
    const generation = await this.optionChanges.generation();
    const hit = this.live.get(id);
    if (hit) {
      this.live.delete(id);
      this.live.set(id, hit);
      return hit.generation === generation ? hit : this.recheck(hit, generation);
    }
    // Two requests for an evicted sandbox must not build two middlewares with two memory stores.
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.loadFromDatabase(id, generation).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Stores the new options first, then swaps in a middleware built from them. */
  async updateOptions(sandbox: Sandbox, options: SandboxOptions): Promise<void> {
    this.checkAvailable(options);
    // Strictly increasing in the row itself, whichever process wrote last, so another process
    // notices even two changes within one millisecond.
    const now = Date.now();
    const [row] = await this.db.all<{ updated_at: number }>(
      'UPDATE sandboxes SET options = ?, updated_at = CASE WHEN updated_at + 1 > ? THEN updated_at + 1 ELSE ? END WHERE id = ? RETURNING updated_at',
      [JSON.stringify(options), now, now, sandbox.id],
    );
    sandbox.adopt(this.build(sandbox.id, options, sandbox.memorySessions, row?.updated_at ?? Math.max(Date.now(), sandbox.builtFrom + 1)));
  }

  /**
   * What a server restart does to this sandbox: the middleware and its store instance are
   * rebuilt, and a MemoryStore's sessions are gone with the old process. SQLite keeps its own.
   */
  async restart(sandbox: Sandbox): Promise<void> {
    const at = Date.now();
    this.restartLocally(sandbox, at);
    sandbox.restarts = [...sandbox.restarts, at].slice(-this.limits.exchangesPerSandbox);
    await this.records.saveRestarts(sandbox.id, sandbox.restarts);
  }

  private restartLocally(sandbox: Sandbox, at: number): void {
    for (const sid of Object.keys(sandbox.memorySessions)) delete sandbox.memorySessions[sid];
    sandbox.adopt(this.build(sandbox.id, sandbox.options, sandbox.memorySessions, sandbox.builtFrom));
    this.restartApplied.set(sandbox.id, at);
  }

  /**
   * Reads what another instance may have added: exchanges numbered above those this copy holds,
   * and the probe, clearing and restarts. `always`: ask the database whatever the watch says.
   */
  private async sync(sandbox: Sandbox, always: boolean): Promise<void> {
    // The generations are read first: a change made while the rows are read shows next time.
    const [exchanges, state] = await Promise.all([this.exchangeChanges.generation(), this.stateChanges.generation()]);
    await Promise.all([
      (always || exchanges !== sandbox.synced.exchanges) &&
        this.records.exchangesAfter(sandbox.id, sandbox.history.complete).then((added) => {
          sandbox.history.add(added);
          sandbox.synced.exchanges = exchanges;
        }),
      (always || state !== sandbox.synced.state) &&
        this.records.state(sandbox.id).then((recorded) => {
          this.adoptState(sandbox, recorded);
          sandbox.synced.state = state;
        }),
    ]);
  }

  /** Takes in the recorded state; a restart made through another instance empties this instance's memory store too. */
  private adoptState(sandbox: Sandbox, recorded: RecordedState): void {
    const latest = recorded.restarts.at(-1) ?? 0;
    const applied = this.restartApplied.get(sandbox.id);
    // The first this instance hears of the sandbox, its memory store is new: nothing to empty.
    if (applied === undefined) this.restartApplied.set(sandbox.id, latest);
    else if (latest > applied) this.restartLocally(sandbox, latest);
    sandbox.adoptState(recorded);
  }

  /** Records use at most hourly: the clean-up only needs to know a sandbox is not abandoned. */
  private noteUse(sandbox: Sandbox): void {
    const now = Date.now();
    if (now - sandbox.usedWrittenAt < 60 * 60 * 1000) return;
    sandbox.usedWrittenAt = now;
    this.db.run('UPDATE sandboxes SET last_used_at = ? WHERE id = ?', [now, sandbox.id]).catch((err: unknown) => {
      // Best effort (it only delays the clean-up of an abandoned sandbox): one line, no stack; tried again on the next use.
      sandbox.usedWrittenAt = 0;
      console.error(`sandbox ${sandbox.id}: its last use was not noted (${(err as Error).message})`);
    });
  }

  private async loadFromDatabase(id: string, generation: number): Promise<Sandbox | null> {
    const row = await this.db.get<{ options: string; updated_at: number }>('SELECT options, updated_at FROM sandboxes WHERE id = ?', [id]);
    if (!row) return null;
    // Stored options were valid when written; validating again keeps a hand-edited row from
    // reaching express-session.
    return this.remember(this.newSandbox(id, validateOptions(JSON.parse(row.options)), row.updated_at, generation));
  }

  /** Another app process has committed something: read the options again in case it was them. */
  private async recheck(sandbox: Sandbox, generation: number): Promise<Sandbox | null> {
    // Requests arriving meanwhile are served what is held, as before the commit elsewhere.
    sandbox.generation = generation;
    const before = sandbox.builtFrom;
    try {
      const row = await this.db.get<{ options: string; updated_at: number }>('SELECT options, updated_at FROM sandboxes WHERE id = ?', [sandbox.id]);
      if (!row) {
        this.live.delete(sandbox.id);
        return null;
      }
      // A different row is another process's change, unless this process changed the options
      // itself while the row was being read (then its own change is the newer one).
      if (row.updated_at !== before && sandbox.builtFrom === before) sandbox.adopt(this.build(sandbox.id, validateOptions(JSON.parse(row.options)), sandbox.memorySessions, row.updated_at));
      return sandbox;
    } catch (err) {
      sandbox.generation = -1; // not confirmed (a failed read, or a row that is not valid options): read again next time
      throw err;
    }
  }

  private remember(sandbox: Sandbox): Sandbox {
    this.live.set(sandbox.id, sandbox);
    while (this.live.size > this.limits.liveSandboxes) {
      const oldest = this.live.keys().next().value as string;
      this.live.delete(oldest);
    }
    return sandbox;
  }

  private memorySessionsOf(id: string): MemorySessions {
    let sessions = this.memorySessionsById.get(id);
    if (!sessions) this.memorySessionsById.set(id, (sessions = emptyMemorySessions()));
    return sessions;
  }

  private newSandbox(id: string, options: SandboxOptions, builtFrom: number, generation: number): Sandbox {
    const memorySessions = this.memorySessionsOf(id);
    return new Sandbox(id, this.build(id, options, memorySessions, builtFrom), memorySessions, this.limits.exchangesPerSandbox, generation, {
      database: this.db.engine,
      redis: this.redis !== null,
    });
  }

  /**
   * express-session mutates the store it is given (connect/disconnect listeners, store.generate
   * with this middleware's cookie options), so every middleware gets a store instance of its own.
   */
  private build(id: string, options: SandboxOptions, memorySessions: MemorySessions, builtFrom: number): SandboxState {
    const store = this.storeFor(id, options, memorySessions);
    recordStoreCalls(store);
    return { options, middleware: session(toSessionOptions(options, sandboxPath(id), store)), store, builtFrom };
  }

  private storeFor(id: string, options: SandboxOptions, memorySessions: MemorySessions): LabMemoryStore | DatabaseSessionStore | LabRedisStore | MissingStore {
    if (options.store === 'database') return new DatabaseSessionStore(this.db, id);
    if (options.store === 'memory') return new LabMemoryStore(memorySessions);
    return this.redis ? new LabRedisStore(this.redis, `sandbox:${id}:`) : new MissingStore("this lab has no Redis server (REDIS_URL is not set), so store: 'redis' cannot keep sessions here");
  }
}
