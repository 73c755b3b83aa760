// What a task's keyboard shortcuts do in a live demo (public/presenter.js), derived from the task's
// own solution rather than written twice: "r" runs the requests its solution presses, in order, one
// per press; "o" sets the options its solution sets (and, pressed again, puts them back).
import { flatSteps, formField, optionFormValue, type Lesson, type Task } from './schema.ts';
import { formValues } from '../sandbox/form.ts';

export interface TaskKeys {
  lesson: string;
  task: string;
  title: string;
  /** A request button to press (with the inputs the step fills in), or 'probe' for Read document.cookie. */
  requests: { request: string; key?: string; value?: string; ms?: number }[];
  /** Each option the solution sets, last value kept: the form field, its solved value and the lesson's, as the form holds them. */
  options: { field: string; value: string; start: string }[];
}

export function taskKeys(lesson: Lesson, task: Task): TaskKeys {
  const steps = flatSteps(task.solution);
  const start = formValues(lesson.sandbox);
  const options = new Map<string, TaskKeys['options'][number]>();
  for (const step of steps) {
    if (!('option' in step)) continue;
    const field = formField(step.option);
    options.delete(field);
    options.set(field, { field, value: optionFormValue(step), start: start[field] ?? '' });
  }
  const requests = steps.flatMap((step): TaskKeys['requests'] => {
    if ('probe' in step) return [{ request: 'probe' }];
    return 'request' in step ? [{ ...step }] : [];
  });
  return { lesson: lesson.slug, task: task.id, title: task.title, requests, options: [...options.values()] };
}
