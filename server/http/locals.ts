// What the lab's middleware leaves in res.locals for the handlers after it, typed once.
import type { Sandbox } from '../sandbox/sandbox.ts';
import type { SessionValue } from '../sandbox/actions.ts';
import type { Lesson } from '../lessons/schema.ts';
import type { Prediction } from '../sandbox/model.ts';
import type { SharedTask } from '../routes/share.ts';
import type { ClassRecord } from '../classroom/class-store.ts';
import type { ClassBar } from '../routes/class-bar.ts';
import type { CrossSiteArrival } from '../exchange/cross-site.ts';
import type { NoOtherSite, OtherSite } from './other-site.ts';

declare global {
  // Express's own extension point for res.locals (@types/express-serve-static-core).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by the sandbox `load` middleware on every /sandbox/:id and /api/sandboxes/:id route. */
      sandbox: Sandbox;
      /** Set by the lessons `load` middleware on every /lessons/:slug route. */
      lesson: Lesson;
      /** A write's checked input (readWriteInput). */
      write?: { key: string; value: SessionValue };
      /** A slow visit's checked delay in milliseconds (readSlowInput). */
      slowMs?: number;
      /** What the learner predicted for this request (readPrediction), if anything. */
      prediction?: Prediction;
      /** The lesson task a shared sandbox link names (GET /sandbox/:id?lesson=…&task=…), if any. */
      sharedTask?: SharedTask | null;
      /** Set by loadTeacherClass on every /teach/:token route: the class the token opens. */
      classRecord: ClassRecord;
      /** A request from the second site's page (server/routes/cross-site.ts): its kind and what the browser said of it. */
      crossSite?: CrossSiteArrival;
      /** The learner's second site (noteOtherSite in app.ts), for the pages that link to it. */
      otherSite?: OtherSite | NoOtherSite;
      /** The teacher's token of that class, for the links on the teacher's own pages only. */
      teacherToken: string;
      /** POST /join: the open class the typed code names (server/routes/join.ts). */
      joinClass?: ClassRecord;
      /** Lesson and sandbox pages: the learner's class bar, when they are in a class (server/routes/class-bar.ts). */
      classBar?: ClassBar | null;
    }
  }
}

export {};
