// The lesson page's baseline: how fast Express 5 and express-session alone can answer a learner's
// page on this machine, before any of the lab's own work. It sends the bytes the lab sent for the
// lesson page, as a constant, behind one express-session configured like the lab's own session
// (name, cookie options, not rolling, nothing saved until there is a learner) with a memory store.
import express from 'express';
import session from 'express-session';
import { readFileSync } from 'node:fs';
import { SITE_COOKIE_NAME } from '../server/sandbox/options.ts';

const port = Number(process.env.PORT ?? 3303);
const page = readFileSync(process.env.PAGE_FILE ?? '', 'utf8');

const app = express();
app.set('etag', false); // the lab sends no ETag on pages either (they are no-store)
app.use(
  session({
    name: SITE_COOKIE_NAME,
    secret: 'baseline-page-secret-0123456789abcdef0123',
    cookie: { path: '/', httpOnly: true, secure: 'auto', sameSite: 'lax', maxAge: 30 * 24 * 60 * 60 * 1000 },
    resave: false,
    saveUninitialized: false,
    rolling: false,
  }),
);
app.get('/page', (req, res) => {
  // Like the lab's first visit: the learner's id is what makes the session worth keeping.
  (req.session as unknown as { learnerId?: string }).learnerId ??= 'a-learner';
  res.setHeader('Cache-Control', 'no-store');
  res.send(page);
});
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
app.listen(port, '127.0.0.1');
