// The examples' application server: it plays "your application", on an
// origin of its own. It serves the example's page and the browser SDK, and
// one protected backend route, `GET /api/me`, which verifies the caller's
// Portcullis session JWT with `@portcullis/node` (docs/verify.md, "Node") —
// from `Authorization: Bearer` (in-app storage) or from the
// `portcullis_session` cookie (cookie storage, when the application shares
// the cookie's domain). See docs/sdk.md, "Verify the session in your
// backend".
//
// Configuration (environment variables):
//   PORTCULLIS_URL          where Portcullis runs (default http://localhost:8080):
//                           its public URL, the tokens' issuer
//   PORTCULLIS_INTERNAL_URL where this backend reaches Portcullis, if not at
//                           PORTCULLIS_URL (a private network; the tests)
//   PORTCULLIS_ENVIRONMENT  the environment id, env_… (required)
//   PORTCULLIS_STORAGE      in_app | cookie (default: the SDK asks the server)
//   PORTCULLIS_API_TOKEN    optional, an API token of role viewer: the route
//                           also refuses revoked sessions, following the
//                           environment's revocation feed (fails closed: 503
//                           while the feed is out of reach for over a minute)
//   HOST, PORT              where this server listens (default 127.0.0.1:3000;
//                           PORT=0 picks a free port, printed on start)
//   TLS_CERT, TLS_KEY       PEM files: serve HTTPS instead of HTTP
//
// Usage: node examples/shared/serve.mjs <public dir> [more dir=prefix…]

import { readFile } from 'node:fs/promises';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVerifier, followRevocations } from '@portcullis/node';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
};

/** The session cookie's value, if the request carries one. */
export function sessionCookie(header = '') {
  for (const pair of header.split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === 'portcullis_session' && value.length) return value.join('=');
  }
  return undefined;
}

/**
 * Verifies a session JWT as every backend should: signature against the
 * environment's published keys (fetched once, refetched on an unknown
 * `kid`), `iss`, `aud` (the environment id), `exp`/`nbf`, and a complete
 * sign-in (`user:basic`; `requiresAdditionalAuth` is refused); with an API
 * token, revocations too. Returns `{ verify(token), close() }`.
 */
export function sessionVerifier({ portcullisUrl, internalUrl = portcullisUrl, environmentId, apiToken }) {
  const under = (url) => `${url.replace(/\/$/, '')}/sdk/v1/${environmentId}`;
  const revocations = apiToken ? followRevocations({ portcullisUrl: internalUrl, environmentId, apiToken }) : undefined;
  const verifier = createVerifier({
    issuer: under(portcullisUrl),
    audience: environmentId,
    jwksUri: `${under(internalUrl)}/.well-known/jwks.json`,
    revocations,
  });
  return {
    verify: (token) => verifier.verifySession(token),
    close: async () => revocations?.close(),
  };
}

function send(res, status, body, headers = {}) {
  const json = typeof body !== 'string';
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(json ? JSON.stringify(body) : body);
}

/** Serves `path` from `dir`, never outside it. */
async function serveFile(res, dir, path) {
  const file = normalize(join(dir, path === '/' ? 'index.html' : path));
  if (file !== dir && !file.startsWith(dir + sep)) return send(res, 404, 'not found');
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch {
    send(res, 404, 'not found');
  }
}

/**
 * Starts the application server; resolves with `{ url, close }`.
 * `mounts`: `[[urlPrefix, directory]]`, the first match wins; `/` last.
 */
export async function startAppServer({
  mounts, portcullisUrl, internalUrl, environmentId, apiToken, storage, host = '127.0.0.1', port = 3000, tls,
}) {
  if (!environmentId) throw new Error('PORTCULLIS_ENVIRONMENT is required (an environment id, env_…)');
  const sessions = sessionVerifier({ portcullisUrl, internalUrl, environmentId, apiToken });
  const config = { environmentId, baseUrl: portcullisUrl, ...(storage ? { storage } : {}) };
  const handler = async (req, res) => {
    const url = new URL(req.url, 'http://app');
    if (url.pathname === '/config.json') return send(res, 200, config);
    if (url.pathname === '/api/me') {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const token = bearer ?? sessionCookie(req.headers.cookie);
      if (!token) return send(res, 401, { error: 'no session' });
      try {
        const claims = await sessions.verify(token);
        return send(res, 200, {
          user_id: claims.sub,
          email: claims.email ?? null,
          session_id: claims.sid,
          via: bearer ? 'bearer' : 'cookie',
        });
      } catch (e) {
        // A PortcullisAuthError: 401, 403 (MFA outstanding) or 503 (Portcullis out of reach).
        return send(res, e.status ?? 401, { error: 'invalid session', reason: e.code ?? e.message });
      }
    }
    if (req.method !== 'GET') return send(res, 405, 'method not allowed');
    for (const [prefix, dir] of mounts) {
      if (url.pathname === prefix || url.pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
        return serveFile(res, dir, url.pathname.slice(prefix.length) || '/');
      }
    }
    send(res, 404, 'not found');
  };
  const server = tls
    ? createHttps({ cert: await readFile(tls.cert), key: await readFile(tls.key) }, handler)
    : createHttp(handler);
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const bound = server.address().port;
  return {
    port: bound,
    url: `${tls ? 'https' : 'http'}://${host === '0.0.0.0' ? 'localhost' : host}:${bound}`,
    close: async () => {
      await sessions.close();
      await new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); });
    },
  };
}

/** The mounts of an example: its page, and the built SDK packages. */
export function exampleMounts(publicDir) {
  return [
    ['/vendor/portcullis/', join(ROOT, 'sdk/js/js/dist')],
    ['/shared/', join(ROOT, 'examples/shared/public')],
    ['/', resolve(publicDir)],
  ];
}

// Run as a program: `node examples/shared/serve.mjs examples/vanilla/public`.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const publicDir = process.argv[2];
  if (!publicDir) {
    console.error('usage: node examples/shared/serve.mjs <public dir>');
    process.exit(2);
  }
  try {
    const app = await startAppServer({
      mounts: exampleMounts(publicDir),
      portcullisUrl: env.PORTCULLIS_URL || 'http://localhost:8080',
      internalUrl: env.PORTCULLIS_INTERNAL_URL || undefined,
      environmentId: env.PORTCULLIS_ENVIRONMENT,
      apiToken: env.PORTCULLIS_API_TOKEN || undefined,
      storage: env.PORTCULLIS_STORAGE,
      host: env.HOST || '127.0.0.1',
      port: Number(env.PORT ?? 3000),
      tls: env.TLS_CERT && env.TLS_KEY ? { cert: env.TLS_CERT, key: env.TLS_KEY } : undefined,
    });
    // One line, parsed by the browser tests: keep its shape.
    console.log(`example listening on ${app.url}`);
  } catch (e) {
    console.error(`example: ${e.message}`);
    process.exit(1);
  }
}
