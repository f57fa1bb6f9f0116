// The example applications (examples/vanilla, examples/react) as the SDK's
// browser tests run them: the real `examples/shared/serve.mjs` program, as
// a person starts it, with HTTPS from the test's certificate and its CA
// trusted for its JWKS requests (NODE_EXTRA_CA_CERTS).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './server.mjs';
import { APP_HOST } from './tls.mjs';
import { within } from './wait.mjs';

const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `examples/<name>` for `server`'s environment `env`. The example
 * must be built (scripts/test-browser builds the SDK and the React
 * bundle). Returns `{ url(host?), port, stop(), log }`: `url()` is
 * `https://app.portcullis.test:PORT`, `url(EVIL_HOST)` the same server
 * under another origin.
 */
export async function startExample(name, { server, env, tls, storage }) {
  const child = spawn(process.execPath, ['examples/shared/serve.mjs', join('examples', name, 'public')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORTCULLIS_URL: server.publicUrl.replace(/\/$/, ''),
      // Node does not resolve the test's host names: the backend fetches
      // the keys by address; the tokens' issuer stays the public URL.
      PORTCULLIS_INTERNAL_URL: server.base,
      PORTCULLIS_ENVIRONMENT: env,
      ...(storage ? { PORTCULLIS_STORAGE: storage } : {}),
      HOST: '127.0.0.1',
      PORT: '0',
      TLS_CERT: tls.certFile,
      TLS_KEY: tls.keyFile,
      NODE_EXTRA_CA_CERTS: tls.caFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const log = [];
  const exited = new Promise((resolve) => child.once('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const listening = new Promise((resolve, reject) => {
    exited.then((code) => reject(new Error(`example ${name} exited (${code}) before listening:\n${log.join('\n')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      const match = /^example listening on https:\/\/[^:]+:(\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  const port = await within(`example ${name} listens`, listening, 30_000);
  return {
    port,
    log,
    url: (host = APP_HOST) => `https://${host}:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await within(`example ${name} exits`, exited, 10_000).catch(() => child.kill('SIGKILL'));
    },
  };
}
