// The baseline the lab is measured against: a bare Express 5 app with one express-session
// middleware, the same cookie options as a sandbox and the same kind of store, doing the least
// a session endpoint can (read, or write one value, and answer a small JSON).
import express from 'express';
import session from 'express-session';
import { openDatabase } from '../server/db/database.ts';
import { DatabaseSessionStore } from '../server/stores/database-session-store.ts';
import { articleOptions } from '../server/sandbox/options.ts';

const port = Number(process.env.PORT ?? 3400);
const storeKind = process.env.STORE === 'database' ? 'database' : 'memory';
const db = storeKind === 'database' ? await openDatabase(process.env.DATABASE_PATH ?? 'baseline.sqlite') : null;

const app = express();
app.use(express.urlencoded({ extended: false, limit: '10kb' }));
app.use(
  session({
    name: articleOptions.name,
    secret: articleOptions.secret,
    cookie: { path: '/', maxAge: articleOptions.cookie.maxAge ?? undefined, secure: false, httpOnly: true },
    resave: false,
    saveUninitialized: false,
    ...(db ? { store: new DatabaseSessionStore(db, 'baseline') } : {}),
  }),
);
app.get('/visit', (req, res) => {
  res.json({ session: req.session });
});
app.post('/write', (req, res) => {
  (req.session as unknown as Record<string, unknown>)[String(req.body.key)] = req.body.value;
  res.json({ session: req.session });
});
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.listen(port, '127.0.0.1');
