// Starts Cookie Lab: reads the config, opens the database, listens, and shuts down cleanly.
import { readConfig, ConfigError } from './config.ts';
import { openDatabase, describeDatabase, DatabaseError } from './db/database.ts';
import { buildApp } from './app.ts';
import { loadPrecompiledViews } from './http/views.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scheduleCleanup } from './db/cleanup.ts';
import { connectRedis } from './stores/redis-connection.ts';

async function main(): Promise<void> {
  const config = readConfig();
  const db = await openDatabase(config.database, { schema: config.databaseSchema, poolSize: config.databasePoolSize });
  // The build (npm start runs dist/main.js) brings its precompiled templates; run from source,
  // the app compiles views/ itself, so an older build can never serve stale pages.
  const here = fileURLToPath(import.meta.url);
  const render = here.endsWith(join('dist', 'main.js')) ? ((await loadPrecompiledViews(join(dirname(here), 'views.js'))) ?? undefined) : undefined;
  const redis = config.redisUrl ? connectRedis(config.redisUrl, config.redisPrefix) : null;
  const { app, registry, progress } = buildApp({ config, db, limits: config.limits, render, redis });
  const stopCleanup = scheduleCleanup(db, registry, progress);
  const server = app.listen(config.port, config.host, (err?: Error) => {
    if (err) {
      console.error(`cannot listen on ${config.host}:${config.port}: ${err.message}`);
      process.exit(1);
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    console.log(`Cookie Lab is listening on http://localhost:${port} (database ${describeDatabase(config.database)})`);
  });

  const shutdown = (signal: string) => {
    console.log(`${signal}: finishing in-flight requests, then closing the database`);
    stopCleanup();
    server.close(() => {
      Promise.all([db.close(), redis?.close()]).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DatabaseError) console.error(`Cookie Lab cannot start: ${err.message}`);
  else console.error('Cookie Lab cannot start:', err);
  process.exit(1);
});
