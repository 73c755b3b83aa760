// Builds the Express app: config, middleware, the route table, error handlers. It does not listen
// (server/main.ts does), so tests run it in-process on a port of their own.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import compression from 'compression';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { SandboxRegistry, type RegistryLimits } from './sandbox/registry.ts';
import { loadSandbox, sandboxPages } from './routes/sandboxes.ts';
import { shareHandlers } from './routes/share.ts';
import { sandboxApi } from './routes/api.ts';
import { progressHandlers } from './routes/progress.ts';
import { exchangeHandler, type ExchangeOutput } from './exchange/recorder.ts';
import { PredictionStore } from './lessons/predictions.ts';
import { actions, readPrediction, readSlowInput, readWriteInput } from './sandbox/actions.ts';
import { exchangeFragment } from './sandbox/panels.ts';
import { crossSiteHandlers } from './routes/cross-site.ts';
import { otherSiteFor } from './http/other-site.ts';
import type { SandboxAction } from './sandbox/model.ts';
import { securityHeaders } from './http/security-headers.ts';
import { keepJsonText, rereadEscapedJson } from './http/json-text.ts';
import './http/locals.ts';
import { sessionsOnRedis, siteSession } from './stores/site-session.ts';
import { compileViews, type Render } from './http/views.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { lessonHandlers } from './routes/lessons.ts';
import { loadLessons } from './lessons/loader.ts';
import type { Lesson } from './lessons/schema.ts';
import { ProgressStore } from './lessons/progress.ts';
import { defaultLimits, rateLimits, type Limits } from './http/rate-limits.ts';
import { healthCheck } from './http/health.ts';
import type { RedisConnection } from './stores/redis-connection.ts';
import { courseFor, labFeatures } from './lessons/features.ts';
import { ClassStore } from './classroom/class-store.ts';
import { classActivity } from './classroom/class-activity.ts';
import { classFollowing } from './classroom/follow.ts';
import { loadTeacherClass } from './routes/teacher-access.ts';
import { teachHandlers } from './routes/teach.ts';
import { joinHandlers } from './routes/join.ts';
import { classBarHandlers } from './routes/class-bar.ts';
import { dashboardHandlers } from './routes/dashboard.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface AppDependencies {
  config: Config;
  db: Database;
  registryLimits?: Partial<RegistryLimits>;
  limits?: Partial<Limits>;
  /** Compiled templates; compiled from views/ unless given (npm start passes the build's). */
  render?: Render;
  /** The course; read from lessons/ unless given (a bad lesson file throws here, stopping start-up). */
  lessonList?: Lesson[];
  /** The lab's Redis connection (REDIS_URL), or null. */
  redis?: RedisConnection | null;
}

export function buildApp({ config, db, registryLimits, limits: limitOverrides, render = compileViews(join(root, 'views')), lessonList = loadLessons(join(root, 'lessons')), redis = null }: AppDependencies) {
  const app = express();
  // The course as this lab can teach it: tasks that need Redis or several instances only where they
  // exist. Progress files are read against the whole course: one from a lab with Redis imports whole.
  const wholeCourse = lessonList;
  lessonList = courseFor(lessonList, labFeatures({ redis: redis !== null, instanceCount: config.instanceCount }));
  const registry = new SandboxRegistry(db, registryLimits, redis);
  const limits = rateLimits({ ...defaultLimits, ...limitOverrides });
  const progress = new ProgressStore(db);
  const predictions = new PredictionStore(db);
  const sandboxes = sandboxPages(registry, render);
  const share = shareHandlers(registry, lessonList, render);
  const api = sandboxApi(registry);
  const classes = new ClassStore(db);
  const lessons = lessonHandlers(lessonList, registry, progress, predictions, render, classActivity(classes));
  const following = classFollowing(lessonList, registry, progress);
  const teach = teachHandlers({ lessons: lessonList, classes, progress, render, checkOptions: (options) => registry.checkAvailable(options) });
  const joining = joinHandlers(classes, following, limits.unknownCodes, render);
  const classBar = classBarHandlers(lessonList, classes, following, render);
  const progressPages = progressHandlers(lessonList, progress, registry, predictions, render, wholeCourse);
  const dashboards = dashboardHandlers(db, classes, lessonList, render);
  /** Every route under /sandbox/:id and /api/sandboxes/:id starts here. */
  const sandbox = loadSandbox(registry, limits.guessing);
  const exchangeOutput: ExchangeOutput = {
    instance: config.instanceName,
    save: (box, recorded) => registry.recordExchange(box, recorded),
    renderFragment: (box, recorded) => exchangeFragment(render, box, recorded),
    refresh: (box) => registry.current(box),
    recorded: async (box, recorded) => {
      if (recorded.prediction) await predictions.count(box.id, recorded.prediction);
    },
  };
  const exchange = (action: SandboxAction) => [readPrediction, exchangeHandler(action, actions[action], exchangeOutput)];
  /** The learner's second site, for the pages that link to it (it depends on the host they came under). */
  const noteOtherSite: RequestHandler = (req, res, next) => {
    res.locals.otherSite = otherSiteFor(req, config.otherSiteHost);
    next();
  };
  // Requests from the second site's page: visits, recorded like the others, answered in their own kind.
  const crossSite = crossSiteHandlers(registry, render, config, exchangeOutput);
  const crossSiteVisit = exchangeHandler('visit', actions.visit, crossSite.output);

  // Config: ids are case-sensitive and express-session compares raw paths, so routing must too
  // (the app's setting, and each router's own option).
  app.set('case sensitive routing', true);
  const router = () => express.Router({ caseSensitive: true });
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // Pages and answers are dynamic, nearly all sent with Cache-Control: no-store: an ETag (a
  // SHA-1 of every body) would buy a 304 for the start page only. Static files keep theirs
  // (express.static makes its own).
  app.set('etag', false);

  // Middleware (everything else is mounted on the routes that need it)
  app.use(securityHeaders(config.production));
  const parseBody = [express.json({ limit: '10kb', verify: keepJsonText }), rereadEscapedJson, express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 50 })];
  const site = siteSession(db, config, redis);

  // Routes, grouped on their first path segment, the busiest first: a request walks past only
  // the groups before its own and its own group's routes, not every route and parser of the app.
  // Each group ends in notFound: a router that runs out of routes would answer OPTIONS itself
  // with an Allow list, and the lab serves its own origin only (no CORS preflight).
  const sandboxRoutes = router();
  // Sandbox requests: answered by the sandbox's own express-session middleware, never the site's.
  // Input is checked first, so a rejected request never reaches the session.
  sandboxRoutes.get('/:id/visit', sandbox, limits.sandboxRequests, exchange('visit'));
  sandboxRoutes.post('/:id/write', parseBody, readWriteInput, sandbox, limits.sandboxRequests, exchange('write'));
  sandboxRoutes.get('/:id/slow', readSlowInput, sandbox, limits.sandboxRequests, exchange('slow'));
  sandboxRoutes.post('/:id/regenerate', parseBody, sandbox, limits.sandboxRequests, exchange('regenerate'));
  sandboxRoutes.post('/:id/destroy', parseBody, sandbox, limits.sandboxRequests, exchange('destroy'));
  sandboxRoutes.post('/:id/unset', parseBody, sandbox, limits.sandboxRequests, exchange('unset'));
  // From the second site (server/routes/cross-site.ts): the only sandbox routes with CORS, and only
  // the sandbox's own corsOrigin/corsCredentials options say what.
  sandboxRoutes.get('/:id/from-other-site/:kind', crossSite.readArrival, sandbox, limits.sandboxRequests, crossSite.applyCors, crossSiteVisit);
  sandboxRoutes.post('/:id/from-other-site/:kind', parseBody, crossSite.readArrival, sandbox, limits.sandboxRequests, crossSiteVisit);
  sandboxRoutes.options('/:id/from-other-site/:kind', sandbox, limits.sandboxRequests, crossSite.preflight);
  sandboxRoutes.get('/:id/other-site', sandbox, crossSite.page);
  sandboxRoutes.get('/:id/cross-site-grid', sandbox, crossSite.grid);
  sandboxRoutes.get('/:id/latest-exchange', sandbox, crossSite.latestExchange);
  // The page (not the sandbox's own requests) reads the lab's session too: a student sees their class bar.
  sandboxRoutes.get('/:id', sandbox, share.sharedTask, site, classBar.pageBar, noteOtherSite, sandboxes.page);
  sandboxRoutes.post('/:id/options', parseBody, sandbox, limits.sandboxRequests, sandboxes.updateFromForm);
  sandboxRoutes.get('/:id/frame', sandbox, sandboxes.frame);
  sandboxRoutes.get('/:id/jar', sandbox, limits.sandboxRequests, sandboxes.jar);
  sandboxRoutes.post('/:id/probe', parseBody, sandbox, limits.sandboxRequests, sandboxes.probe);
  sandboxRoutes.post('/:id/restart', parseBody, sandbox, limits.sandboxRequests, sandboxes.restart);
  sandboxRoutes.post('/:id/clear-cookies', parseBody, sandbox, limits.sandboxRequests, sandboxes.clearCookies);
  sandboxRoutes.use(notFound);
  app.use('/sandbox', sandboxRoutes);

  // A student's own class bar, polled every 2 s by every student of a class: it reads and
  // changes only that student's membership.
  const classRoutes = router();
  classRoutes.get('/bar', site, classBar.state);
  classRoutes.post('/following', parseBody, site, classBar.setFollowing);
  classRoutes.post('/consent', parseBody, site, classBar.setConsent);
  classRoutes.use(notFound);
  app.use('/class', classRoutes);

  const lessonRoutes = router();
  // A first visit creates a learner and a sandbox: limited like /lab; returning learners are not.
  const firstVisitLimit: RequestHandler = (req, res, next) => (req.session.learnerId ? next() : limits.createSandbox(req, res, next));
  lessonRoutes.get('/:slug', site, lessons.load, firstVisitLimit, classBar.pageBar, noteOtherSite, lessons.page);
  lessonRoutes.get('/:slug/tasks', site, lessons.load, lessons.tasks);
  lessonRoutes.post('/:slug/tasks/:task/hints', parseBody, site, lessons.load, lessons.hint);
  lessonRoutes.post('/:slug/reset', parseBody, site, lessons.load, lessons.reset);
  lessonRoutes.get('/', site, lessons.list);
  lessonRoutes.use(notFound);
  app.use('/lessons', lessonRoutes);

  const apiRoutes = router();
  apiRoutes.post('/', parseBody, limits.createSandbox, api.create);
  apiRoutes.get('/:id/options', sandbox, api.showOptions);
  apiRoutes.put('/:id/options', parseBody, sandbox, limits.sandboxRequests, api.updateOptions);
  apiRoutes.get('/:id/exchanges', sandbox, api.listExchanges);
  apiRoutes.use(notFound);
  app.use('/api/sandboxes', apiRoutes);

  const progressRoutes = router();
  progressRoutes.get('/', site, progressPages.show);
  progressRoutes.get('/export', site, progressPages.exportProgress);
  progressRoutes.post('/import', parseBody, site, progressPages.importProgress);
  progressRoutes.post('/reset', parseBody, site, progressPages.resetProgress);
  progressRoutes.use(notFound);
  app.use('/progress', progressRoutes);

  // The classroom (server/routes/teach.ts, join.ts, class-bar.ts). Everything under /teach/:token
  // starts with `teacher`: limited per address, the token checked (unknown ones counted per
  // address), then limited per class. The dashboard's routes belong here too, behind `teacher`.
  const teachRoutes = router();
  const teacher = [limits.teacherRequests, loadTeacherClass(classes, limits.unknownTokens), limits.classRequests];
  teachRoutes.get('/', teach.newClass);
  teachRoutes.post('/', parseBody, limits.createClass, teach.create);
  teachRoutes.get('/:token', teacher, teach.page);
  teachRoutes.post('/:token/send', parseBody, teacher, teach.send);
  teachRoutes.post('/:token/message', parseBody, teacher, teach.message);
  teachRoutes.post('/:token/students/:student/remove', parseBody, teacher, teach.removeStudent);
  teachRoutes.post('/:token/students/:student/reset', parseBody, teacher, teach.resetStudent);
  teachRoutes.post('/:token/reset', parseBody, teacher, teach.resetClass);
  teachRoutes.post('/:token/close', parseBody, teacher, teach.close);
  teachRoutes.post('/:token/reopen', parseBody, teacher, teach.reopen);
  teachRoutes.get('/:token/results.csv', teacher, teach.exportCsv);
  teachRoutes.get('/:token/results.json', teacher, teach.exportJson);
  teachRoutes.get('/:token/dashboard', teacher, dashboards.page);
  teachRoutes.get('/:token/dashboard/live', teacher, dashboards.live);
  teachRoutes.post('/:token/dashboard/bars', parseBody, teacher, dashboards.bars);
  teachRoutes.post('/:token/dashboard/project', parseBody, teacher, dashboards.project);
  teachRoutes.post('/:token/dashboard/project/stop', parseBody, teacher, dashboards.stopProjecting);
  teachRoutes.use(notFound);
  app.use('/teach', teachRoutes);

  const joinRoutes = router();
  joinRoutes.get('/', joining.form);
  joinRoutes.get('/:code', limits.joins, site, joining.formWithCode);
  joinRoutes.post('/', parseBody, limits.joins, site, joining.readCode, limits.joinsPerClass, joining.join);
  joinRoutes.use(notFound);
  app.use('/join', joinRoutes);

  // The class's screen, by join code: only what the teacher chose to show everyone. Public, so
  // limited on its own (never eating the teacher's budget); unknown codes count as join codes do.
  const projectorRoutes = router();
  const projectorClass = [limits.projectorRequests, dashboards.loadProjectorClass(limits.unknownCodes)];
  projectorRoutes.get('/:code', projectorClass, dashboards.projector);
  projectorRoutes.get('/:code/live', projectorClass, dashboards.projectorLive);
  projectorRoutes.use(notFound);
  app.use('/projector', projectorRoutes);


  app.get('/healthz', healthCheck(db, redis, sessionsOnRedis(config, redis), () => registry.liveCount));
  app.get('/', (_req, res) => res.send(render('index')));
  // A fresh sandbox; with a share link's query, with its options (server/routes/share.ts).
  app.get('/lab', limits.createSandbox, share.open);
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));
  // Our own origin serves everything a page needs (classrooms can be offline), compressed.
  const assets = router();
  assets.use(compression());
  assets.use('/htmx.min.js', express.static(join(root, 'node_modules/htmx.org/dist/htmx.min.js'), { maxAge: '1d' }));
  // The dashboard's and projector's polls send what they show (HX-PTag) and get a 304 while it stands.
  assets.use('/hx-ptag.js', express.static(join(root, 'node_modules/htmx.org/dist/ext/hx-ptag.min.js'), { maxAge: '1d' }));
  assets.use(express.static(join(root, 'public'), { maxAge: '1h' }));
  app.use('/static', assets);

  // Error handlers
  app.use(notFound);
  app.use(errorHandler(render) satisfies ErrorRequestHandler);

  return { app, registry, progress, classes };
}
