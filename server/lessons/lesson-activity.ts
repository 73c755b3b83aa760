// What the lesson pages tell whoever listens after each check of a learner's tasks. A class
// (server/classroom/class-activity.ts) listens: it notes the student's activity and the failed
// check its dashboard groups. Lessons work the same with no listener.

export interface LessonActivity {
  /**
   * A learner's tasks were checked: `latestExchange` is the number of the latest exchange that
   * counts (null: none since the lesson started or was reset), `failure` the first open task's
   * failed check, if it failed.
   */
  checked(learner: string, lesson: string, sandboxId: string, latestExchange: number | null, failure: { task: string; detail: string } | null): Promise<void>;
}
