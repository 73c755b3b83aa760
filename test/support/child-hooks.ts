// Loaded into a server child process (node --import) by tests that must act at a precise moment
// of its life: it reports on stderr, one line each, when a request reached the app and when the
// server stopped listening. The test waits for those lines (ServerProcess.waitForOutput) instead
// of sleeping and hoping the moment has come. It changes nothing else the server does.
import { Server } from 'node:http';

/** The same text as in test/support/process.ts (which must not import this file: it patches http). */
const HOOK_PREFIX = 'cookie-lab-test-hook:';

const report = (line: string) => process.stderr.write(`${HOOK_PREFIX} ${line}\n`);

const emit = Server.prototype.emit;
Server.prototype.emit = function reportingEmit(this: Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'request') {
    const req = args[0] as { method?: string; url?: string };
    report(`request ${req.method} ${req.url}`);
  }
  return Reflect.apply(emit, this, [event, ...args]) as boolean;
} as Server['emit'];

const close = Server.prototype.close;
Server.prototype.close = function reportingClose(this: Server, ...args: Parameters<Server['close']>) {
  const result = close.apply(this, args);
  // net.Server.close() has closed the listening socket by now: new connections are refused.
  report('listener closed');
  return result;
};
