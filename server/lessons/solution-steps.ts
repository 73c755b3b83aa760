// A task's solution steps in words, for "Show the solution": what to set and what to press, in the
// names the sandbox page gives its controls.
import type { Step, StepRequest } from './schema.ts';
import { KIND_LABELS } from '../exchange/cross-site.ts';

/** The label of the button each solution request presses (the replays in Chromium press these too). */
export const REQUEST_BUTTONS: Record<StepRequest, string> = {
  visit: 'Visit',
  write: 'Write',
  slow: 'Slow visit',
  regenerate: 'Regenerate',
  destroy: 'Destroy',
  unset: 'Unset',
  restart: 'Restart the server',
};

export function describeStep(step: Step): string {
  if ('option' in step) {
    if (step.value === null || step.value === '') return `Empty ${step.option}.`;
    if (typeof step.value === 'boolean') return `${step.value ? 'Tick' : 'Untick'} ${step.option}.`;
    return `Set ${step.option} to ${JSON.stringify(step.value)}.`;
  }
  if ('request' in step) {
    const button = REQUEST_BUTTONS[step.request];
    if (step.request === 'write') return `Press ${button} with key ${JSON.stringify(step.key ?? 'user')} and value ${JSON.stringify(step.value ?? 'ada')}.`;
    if (step.request === 'slow' && step.ms !== undefined) return `Press ${button} with a delay of ${step.ms} ms.`;
    return `Press ${button}.`;
  }
  if ('probe' in step) return 'Press Read document.cookie.';
  if ('crossSite' in step) return `On the second site, ${step.forwardedProto ? 'tick Add X-Forwarded-Proto: https, then ' : ''}press ${KIND_LABELS[step.crossSite].label}.`;
  if ('wait' in step) return `Wait ${step.wait >= 1000 ? `${step.wait / 1000} s` : `${step.wait} ms`}.`;
  const [first, ...rest] = step.together;
  return `${first ? describeStep(first).replace(/\.$/, '') : 'Start a request'}, and while it is still running: ${rest.map((s) => describeStep(s).replace(/\.$/, '')).join(', then ')}.`;
}
