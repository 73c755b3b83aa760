// "Predict, then see": how many predictions a learner made in a sandbox, and how many were right.
// Counted when the exchange is recorded (it survives restarts, unlike the exchange history).
import type { Database } from '../db/database.ts';
import type { PredictionOutcome } from '../sandbox/model.ts';

export interface PredictionCount {
  made: number;
  right: number;
}

export class PredictionStore {
  constructor(private readonly db: Database) {}

  /** A prediction counts as right when every part of it that was predicted came true. */
  async count(sandboxId: string, outcome: PredictionOutcome): Promise<void> {
    const right = outcome.cookieRight !== false && outcome.storeRight !== false ? 1 : 0;
    await this.db.run(
      `INSERT INTO sandbox_predictions (sandbox_id, made, correct) VALUES (?, 1, ?)
       ON CONFLICT (sandbox_id) DO UPDATE SET made = sandbox_predictions.made + 1, correct = sandbox_predictions.correct + excluded.correct`,
      [sandboxId, right],
    );
  }

  async forSandbox(sandboxId: string): Promise<PredictionCount> {
    const row = await this.db.get<{ made: number; correct: number }>('SELECT made, correct FROM sandbox_predictions WHERE sandbox_id = ?', [sandboxId]);
    return { made: row?.made ?? 0, right: row?.correct ?? 0 };
  }

  /** A lesson reset starts the count again. */
  async forget(sandboxId: string): Promise<void> {
    await this.db.run('DELETE FROM sandbox_predictions WHERE sandbox_id = ?', [sandboxId]);
  }
}
