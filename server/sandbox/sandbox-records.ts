// What a sandbox showed and observed, kept in the database so that every app instance sees it:
// its latest exchanges (the inspector's history, which lesson checks read), the latest reading
// of document.cookie, when its cookies were last cleared, and its restarts. Each instance holds
// a copy in the Sandbox and reads again only what another instance added (see registry.ts).
import type { Database } from '../db/database.ts';
import { isUniqueViolation } from '../db/connection.ts';
import type { Exchange } from './model.ts';
import { CROSS_SITE_KINDS, GRID_SAME_SITE, emptyGrid, type Grid, type GridCell, type HeldReading } from '../exchange/cross-site.ts';

/** What document.cookie held on the learner's page when they last looked, and the cookies the browser sent with that reading. */
export interface ProbeReading {
  value: string;
  at: number;
  sent: string[];
}

export interface SandboxState {
  probe: ProbeReading | null;
  /** The latest exchange's number when the learner last cleared the sandbox's cookies (null: not since). */
  cookiesClearedAfter: number | null;
  /** When the sandbox's server was restarted (ms), oldest first: the latest ones only. */
  restarts: number[];
  /** What the jar last saw the browser send under the sandbox's cookie name (server/exchange/cross-site.ts). */
  held: HeldReading | null;
}

export class SandboxRecords {
  constructor(
    private readonly db: Database,
    /** How many exchanges (and restarts) each sandbox keeps. */
    readonly limit: number,
  ) {}

  /**
   * Stores an exchange under the next number of its sandbox and returns that number: numbers
   * follow the order in which exchanges were recorded, whichever instance recorded them.
   */
  async record(sandboxId: string, exchange: Exchange): Promise<number> {
    // The number lives in its column; the stored JSON leaves it out, and reads put it back.
    const json = JSON.stringify({ ...exchange, number: undefined });
    for (let attempt = 1; ; attempt++) {
      try {
        const [row] = await this.db.all<{ number: number }>(
          `INSERT INTO exchanges (sandbox_id, number, exchange)
           SELECT ?, coalesce(max(number), 0) + 1, ? FROM exchanges WHERE sandbox_id = ?
           RETURNING number`,
          [sandboxId, json, sandboxId],
        );
        const number = row!.number;
        // Older exchanges go now and then, not with every request.
        if (number > this.limit && number % 10 === 0) await this.db.run('DELETE FROM exchanges WHERE sandbox_id = ? AND number <= ?', [sandboxId, number - this.limit]);
        return number;
      } catch (err) {
        // Two instances recording for one sandbox at once may pick the same number: take the next.
        if (!isUniqueViolation(err) || attempt >= 10) throw err;
      }
    }
  }

  /** The latest exchanges numbered above `after`, oldest first (at most `limit`). */
  async exchangesAfter(sandboxId: string, after: number): Promise<Exchange[]> {
    const rows = await this.db.all<{ number: number; exchange: string }>(
      'SELECT number, exchange FROM exchanges WHERE sandbox_id = ? AND number > ? ORDER BY number DESC LIMIT ?',
      [sandboxId, after, this.limit],
    );
    return rows.reverse().map((row) => ({ ...(JSON.parse(row.exchange) as Exchange), number: row.number }));
  }

  async state(sandboxId: string): Promise<SandboxState> {
    const row = await this.db.get<{ probe: string | null; cookies_cleared_after: number | null; restarts: string; held_cookie: string | null }>(
      'SELECT probe, cookies_cleared_after, restarts, held_cookie FROM sandbox_state WHERE sandbox_id = ?',
      [sandboxId],
    );
    return {
      probe: row?.probe ? (JSON.parse(row.probe) as ProbeReading) : null,
      cookiesClearedAfter: row?.cookies_cleared_after ?? null,
      restarts: row ? (JSON.parse(row.restarts) as number[]) : [],
      held: row?.held_cookie ? (JSON.parse(row.held_cookie) as HeldReading) : null,
    };
  }

  async saveHeld(sandboxId: string, held: HeldReading): Promise<void> {
    await this.db.run('INSERT INTO sandbox_state (sandbox_id, held_cookie) VALUES (?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET held_cookie = excluded.held_cookie', [
      sandboxId,
      JSON.stringify(held),
    ]);
  }

  async saveProbe(sandboxId: string, probe: ProbeReading): Promise<void> {
    await this.db.run('INSERT INTO sandbox_state (sandbox_id, probe) VALUES (?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET probe = excluded.probe', [sandboxId, JSON.stringify(probe)]);
  }

  async saveCookiesCleared(sandboxId: string, afterNumber: number): Promise<void> {
    await this.db.run(
      'INSERT INTO sandbox_state (sandbox_id, cookies_cleared_after) VALUES (?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET cookies_cleared_after = excluded.cookies_cleared_after',
      [sandboxId, afterNumber],
    );
  }

  /**
   * Stores the restart times given (the sandbox's latest, newest last). Two instances restarting
   * one sandbox in the same moment may keep only one of the two: either shows the lesson a restart.
   */
  async saveRestarts(sandboxId: string, restarts: readonly number[]): Promise<void> {
    await this.db.run('INSERT INTO sandbox_state (sandbox_id, restarts) VALUES (?, ?) ON CONFLICT (sandbox_id) DO UPDATE SET restarts = excluded.restarts', [
      sandboxId,
      JSON.stringify(restarts.slice(-this.limit)),
    ]);
  }

  /** Fills one cell of the sandbox's cross-site grid (the latest request of its kind and column wins). */
  async saveCell(sandboxId: string, cell: GridCell, at: number): Promise<void> {
    await this.db.run(
      `INSERT INTO cross_site_cells (sandbox_id, kind, same_site, cell, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (sandbox_id, kind, same_site) DO UPDATE SET cell = excluded.cell, at = excluded.at`,
      [sandboxId, cell.kind, cell.sameSite, JSON.stringify(cell), at],
    );
  }

  /** The sandbox's cross-site grid; rows of kinds or columns the lab no longer knows are left out. */
  async grid(sandboxId: string): Promise<Grid> {
    const grid = emptyGrid();
    const rows = await this.db.all<{ kind: string; same_site: string; cell: string }>('SELECT kind, same_site, cell FROM cross_site_cells WHERE sandbox_id = ?', [sandboxId]);
    for (const row of rows) {
      const kind = CROSS_SITE_KINDS.find((k) => k === row.kind);
      const column = GRID_SAME_SITE.find((c) => c === row.same_site);
      if (kind && column) grid[kind][column] = JSON.parse(row.cell) as GridCell;
    }
    return grid;
  }

  /** Empties the grid (a lesson reset starts it afresh). */
  async clearGrid(sandboxId: string): Promise<void> {
    await this.db.run('DELETE FROM cross_site_cells WHERE sandbox_id = ?', [sandboxId]);
  }

  /** The sandbox is gone: so is what it recorded. */
  async forget(sandboxId: string): Promise<void> {
    await this.db.run('DELETE FROM exchanges WHERE sandbox_id = ?', [sandboxId]);
    await this.db.run('DELETE FROM sandbox_state WHERE sandbox_id = ?', [sandboxId]);
    await this.clearGrid(sandboxId);
  }
}
