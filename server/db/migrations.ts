// The schema's history, one entry per step, the same for both engines: every database, old or new,
// SQLite or PostgreSQL, replays it in order and remembers how far it has come (each engine's own
// way: sqlite.ts, postgres.ts). Entries are written in the SQL both engines read; the few words
// they spell differently are translated by dialect.ts, the one place that knows them.
//
// Rules for queries elsewhere (so that one repository serves both engines): positional `?`
// parameters; `INSERT … ON CONFLICT … DO NOTHING/DO UPDATE` (never INSERT OR IGNORE/REPLACE);
// CASE instead of two-argument max()/min(); no JSON functions; times as milliseconds in INTEGER
// columns; booleans as 0/1; RETURNING is fine. In DO UPDATE, name the table's own columns with the
// table (`hints_shown.count`): PostgreSQL finds a bare `count` ambiguous beside `excluded.count`.

export const migrations: readonly string[] = [
  `CREATE TABLE sandboxes (
     id TEXT PRIMARY KEY,
     options TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE sessions (
     namespace TEXT NOT NULL,
     sid TEXT NOT NULL,
     sess TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     PRIMARY KEY (namespace, sid)
   ) WITHOUT ROWID;
   CREATE INDEX sessions_by_expiry ON sessions (expires_at);`,
  // Learner progress, one row per fact so that concurrent requests never overwrite each other.
  `CREATE TABLE lesson_sandboxes (
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     sandbox_id TEXT NOT NULL,
     PRIMARY KEY (learner_id, lesson)
   ) WITHOUT ROWID;
   CREATE TABLE solved_tasks (
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     task TEXT NOT NULL,
     solved_at INTEGER NOT NULL,
     PRIMARY KEY (learner_id, lesson, task)
   ) WITHOUT ROWID;
   CREATE TABLE hints_shown (
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     task TEXT NOT NULL,
     count INTEGER NOT NULL,
     PRIMARY KEY (learner_id, lesson, task)
   ) WITHOUT ROWID;`,
  // When a sandbox was last used (written at most hourly), so abandoned ones can be cleaned up.
  `ALTER TABLE sandboxes ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
   UPDATE sandboxes SET last_used_at = updated_at;
   CREATE INDEX sandboxes_by_last_use ON sandboxes (last_used_at);`,
  // When a learner last reset their progress: older exchanges and probes no longer solve tasks.
  `CREATE TABLE progress_resets (
     learner_id TEXT PRIMARY KEY,
     reset_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // When a learner last reset one lesson ("Reset this lesson"): the later of this and progress_resets counts.
  `CREATE TABLE lesson_resets (
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     reset_at INTEGER NOT NULL,
     PRIMARY KEY (learner_id, lesson)
   ) WITHOUT ROWID;`,
  // Predictions made before requests ("predict, then see"), counted per sandbox: never required.
  `CREATE TABLE sandbox_predictions (
     sandbox_id TEXT PRIMARY KEY,
     made INTEGER NOT NULL,
     correct INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Classes (server/classroom): a teacher's class, its students, and the failed checks its dashboard groups.
  // Only a hash of the teacher's token is kept, so a copy of the database gives no teacher link.
  `CREATE TABLE classes (
     id TEXT PRIMARY KEY,
     code TEXT NOT NULL UNIQUE,
     token_hash TEXT NOT NULL UNIQUE,
     title TEXT NOT NULL,
     lessons TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     closed_at INTEGER,
     target TEXT,
     target_seq INTEGER NOT NULL DEFAULT 0,
     message TEXT,
     message_at INTEGER,
     show_bars INTEGER NOT NULL DEFAULT 0,
     projected TEXT
   );
   CREATE TABLE class_students (
     class_id TEXT NOT NULL,
     student_id TEXT NOT NULL,
     learner_id TEXT NOT NULL,
     name TEXT NOT NULL,
     name_key TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     last_active_at INTEGER NOT NULL,
     following INTEGER NOT NULL DEFAULT 1,
     share_consent INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (class_id, student_id),
     UNIQUE (class_id, learner_id),
     UNIQUE (class_id, name_key)
   ) WITHOUT ROWID;
   CREATE INDEX class_students_by_learner ON class_students (learner_id);
   CREATE TABLE check_failures (
     learner_id TEXT NOT NULL,
     lesson TEXT NOT NULL,
     task TEXT NOT NULL,
     sandbox_id TEXT NOT NULL,
     exchange_number INTEGER NOT NULL,
     detail TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (learner_id, lesson, task, sandbox_id, exchange_number)
   ) WITHOUT ROWID;`,
  // What a sandbox showed and observed, kept where every app instance sees it (it lived in the
  // memory of the process that answered): its latest exchanges (each the JSON the inspector and
  // the lesson checks read), and the latest reading of document.cookie, cookie clearing and
  // restarts that lesson checks look at.
  `CREATE TABLE exchanges (
     sandbox_id TEXT NOT NULL,
     number INTEGER NOT NULL,
     exchange TEXT NOT NULL,
     PRIMARY KEY (sandbox_id, number)
   ) WITHOUT ROWID;
   CREATE TABLE sandbox_state (
     sandbox_id TEXT PRIMARY KEY,
     probe TEXT,
     cookies_cleared_after INTEGER,
     restarts TEXT NOT NULL DEFAULT '[]'
   ) WITHOUT ROWID;`,
  // Issue 13: the cross-site grid, one cell per sandbox, request kind and SameSite of the cookie
  // the browser held: whether the browser attached it, as the Cookie header that arrived said. Kept
  // apart from the exchanges, which keep the latest 20 only (a full grid takes 24 requests). And
  // what the jar last saw the browser send (which cookie it held), wherever the jar was answered.
  `ALTER TABLE sandbox_state ADD COLUMN held_cookie TEXT;
   CREATE TABLE cross_site_cells (
     sandbox_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     same_site TEXT NOT NULL,
     cell TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (sandbox_id, kind, same_site)
   ) WITHOUT ROWID;`,
];
