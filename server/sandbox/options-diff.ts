// What changed in a sandbox's options between two exchanges, field by field, in the names the
// options form uses: the inspector shows it so a learner sees which options each request ran with.
import type { SandboxOptions } from './options.ts';

export interface OptionChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** Every field whose value differs, `cookie.` fields included; the secret list compared whole. */
export function optionChanges(before: SandboxOptions, after: SandboxOptions): OptionChange[] {
  const changes: OptionChange[] = [];
  const compare = (field: string, from: unknown, to: unknown) => {
    if (JSON.stringify(from) !== JSON.stringify(to)) changes.push({ field, from, to });
  };
  for (const key of Object.keys(after) as (keyof SandboxOptions)[]) {
    if (key === 'cookie') continue;
    compare(key, before[key], after[key]);
  }
  for (const key of Object.keys(after.cookie) as (keyof SandboxOptions['cookie'])[]) compare(`cookie.${key}`, before.cookie[key], after.cookie[key]);
  return changes;
}
