// Putting a lesson's sandbox back as the lesson starts it: the lesson's options, and none of the
// cookies the learner's browser got from it (so a lesson redone as written behaves as written).
import type { SandboxRegistry } from '../sandbox/registry.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { clearSandboxCookies, type Clearing } from '../sandbox/cookie-clearing.ts';
import type { Lesson } from './schema.ts';

export async function putSandboxBack(registry: SandboxRegistry, sandbox: Sandbox, lesson: Lesson, host: string): Promise<Clearing> {
  // Computed first: the names the sandbox used before its options go back.
  const clearing = clearSandboxCookies(sandbox, host, [lesson.sandbox.name]);
  await registry.noteCookiesCleared(sandbox);
  await registry.updateOptions(sandbox, lesson.sandbox);
  // The cross-site grid describes cookies the reset just cleared: it starts afresh too.
  await registry.clearCrossSiteGrid(sandbox);
  return clearing;
}
