// How one instance learns, at once, that another instance changed rows it may hold in a cache:
// triggers on the watched tables NOTIFY a channel with the writing instance's name and the table,
// and each instance LISTENs on a dedicated connection (a pooled one would be handed to queries and
// lose its LISTEN). PostgreSQL delivers a notification when its transaction commits; it keeps no
// history, so while the listening connection is down every cache counts as stale, and reconnecting
// starts a new generation.
import pg from 'pg';
import { WATCHED_TABLES, type Generations, type WatchedTable } from './connection.ts';

/** Tables watched statement by statement; the lab's own sessions are watched row by row (below). */
const WHOLE_TABLES = WATCHED_TABLES.filter((table) => table !== 'site_sessions');

/**
 * (Re)creates the triggers, in the migration's transaction, on every start: the function and the
 * tables' list live in code, so a new watched table needs no migration of its own.
 */
export async function installChangeTriggers(client: pg.ClientBase, channel: string): Promise<void> {
  await client.query(`CREATE OR REPLACE FUNCTION lab_notify_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify(TG_ARGV[0], current_setting('application_name') || ' ' || TG_ARGV[1]);
      RETURN NULL;
    END
  $fn$`);
  const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
  for (const table of WHOLE_TABLES) {
    await client.query(
      `CREATE OR REPLACE TRIGGER lab_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
       FOR EACH STATEMENT EXECUTE FUNCTION lab_notify_change(${literal(channel)}, ${literal(table)})`,
    );
  }
  // Sandboxes' sessions change with nearly every sandbox request and are never cached; only the
  // lab's own ("site") sessions are, so only theirs notify.
  for (const [name, events, row] of [
    ['lab_site_session_writes', 'INSERT OR UPDATE', 'NEW'],
    ['lab_site_session_deletes', 'DELETE', 'OLD'],
  ] as const) {
    await client.query(
      `CREATE OR REPLACE TRIGGER ${name} AFTER ${events} ON sessions
       FOR EACH ROW WHEN (${row}.namespace = 'site') EXECUTE FUNCTION lab_notify_change(${literal(channel)}, 'site_sessions')`,
    );
  }
}

type ClientConfig = ConstructorParameters<typeof pg.Client>[0];

/** The LISTENing connection and the generations it counts, table by table. */
export class ChangeListener {
  private readonly counts = new Map<string, number>();
  /** Bumped at every (re)connect and by every look while disconnected: then nothing counts as current. */
  private epoch = 0;
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = 100;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Waiting for the next change: each with the tables it watches (null: any). */
  private waiting: { tables: readonly string[] | null; wake: () => void }[] = [];

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly instance: string,
  ) {}

  /** Connects and listens; fails when the server cannot be reached at start-up. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  watch(tables: readonly WatchedTable[]): Generations {
    const watched = tables.length > 0 ? tables : WATCHED_TABLES;
    return {
      generation: async () => {
        if (!this.client) this.epoch++;
        let sum = this.epoch;
        for (const table of watched) sum += this.counts.get(table) ?? 0;
        return sum;
      },
      changed: () => new Promise<void>((wake) => this.waiting.push({ tables: watched, wake })),
    };
  }

  /** Wakes those waiting on `table` (null: everyone, the connection came or went). */
  private wake(table: string | null): void {
    const woken = this.waiting.filter((w) => table === null || w.tables === null || w.tables.includes(table));
    this.waiting = this.waiting.filter((w) => !woken.includes(w));
    for (const w of woken) w.wake();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      const space = message.payload.lastIndexOf(' ');
      // This instance's own commits: its caches were updated as it wrote.
      if (message.payload.slice(0, space) === this.instance) return;
      const table = message.payload.slice(space + 1);
      this.counts.set(table, (this.counts.get(table) ?? 0) + 1);
      this.wake(table);
    });
    // A lost connection (the server restarting) is not a crash: reconnect, counting everything stale meanwhile.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.epoch++;
    this.retryMs = 100;
    this.wake(null);
  }

  private lost(client: pg.Client, err: Error | null): void {
    if (this.client !== client) return;
    this.client = null;
    this.epoch++;
    this.wake(null);
    if (this.stopped) return;
    if (err) console.error(`PostgreSQL: the connection that listens for other instances' changes failed (${err.message}); reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().catch(() => {
        this.retryMs = Math.min(this.retryMs * 2, 5000);
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
