// A real Portcullis server process for the tests: `portcullis init --json`
// on a fresh data directory, then `portcullis serve` on a port of its own,
// with mail going to the tests' SMTP sink.

import { spawn, execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, within } from './wait.mjs';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The binary under test: `PORTCULLIS_BIN`, else `target/debug/portcullis`. */
export function serverBinary() {
  return resolve(REPO_ROOT, process.env.PORTCULLIS_BIN || 'target/debug/portcullis');
}

export const DEFAULT_OWNER_EMAIL = 'owner@example.test';

/** How long the server may take to start (a debug build on a busy machine). */
const START_TIMEOUT_MS = 60_000;

const running = new Set();
// A test file that dies (an uncaught error, the runner's timeout, Ctrl-C)
// must not leave its server behind. On a signal, 'exit' is not emitted
// unless something handles the signal: these handlers do, and end the
// process as the signal would have.
const killAll = () => {
  for (const server of running) server.kill();
};
process.once('exit', killAll);
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + number);
  });
}

/**
 * Starts a server. Options:
 * - `mail`: a MailSink (`startMailSink()`); without one, mail goes to
 *   `.eml` files in the data directory.
 * - `ownerEmail`: the owner member's address (default owner@example.test).
 * - `port`: listen on this port (see `freePort()`), e.g. to give a
 *   `publicUrl` with `localhost` (passkeys refuse IP origins). Default: a
 *   port the system chooses, learnt from the server's log. For passkeys:
 *   `const port = await freePort();
 *    startServer({mail, port, publicUrl: `http://localhost:${port}`})`,
 *   and the browser goes to `server.browserBase` (the public URL).
 * - `publicUrl`, `rateLimits` (default off, as in the Rust black-box
 *   tests), `args` (more `serve` flags), `env` (more variables).
 * - `tls`: the test's certificate (`makeTestTls()`): the server serves
 *   HTTPS with it (`--tls-cert`, `--tls-key`), and the harness's own
 *   requests trust its CA.
 */
export async function startServer(options = {}) {
  const {
    mail,
    ownerEmail = DEFAULT_OWNER_EMAIL,
    port = 0,
    publicUrl,
    rateLimits = false,
    args = [],
    env = {},
    tls,
  } = options;
  const bin = serverBinary();
  await eventually(`the server binary ${bin} exists (build it: cargo build --bin portcullis, or set PORTCULLIS_BIN)`,
    () => existsSync(bin), { timeout: 10_000, interval: 200 });
  const dataDir = await mkdtemp(join(tmpdir(), 'portcullis-browser-'));
  const config = [
    '--data-dir', dataDir,
    '--listen', `127.0.0.1:${port}`,
    '--owner-email', ownerEmail,
    '--log-format', 'json',
  ];
  if (mail) config.push('--smtp-url', mail.url);
  if (publicUrl) config.push('--public-url', publicUrl);
  const tlsArgs = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [];
  const childEnv = { ...cleanEnv(), RUST_LOG: 'info,sqlx=warn', ...env };

  let init;
  try {
    init = JSON.parse(await runWhileBinaryIsThere(bin, ['init', '--json', ...config], childEnv));
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const serveArgs = ['serve', ...config, ...tlsArgs, ...(rateLimits ? [] : ['--no-rate-limits']), ...args];
  const server = new PortcullisServer({ bin, dataDir, ownerEmail, mail, init, args: serveArgs, env: childEnv, publicUrl, tls });
  try {
    await server.start();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** A free TCP port on 127.0.0.1 (free when asked: another process may take it before the server binds). */
export async function freePort() {
  const probe = createServer();
  await new Promise((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export class PortcullisServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: where the tests' requests go. */
  base = '';
  /** Where the browser goes (`newPage`'s base URL): `base`, or the `publicUrl` given. */
  browserBase = '';
  /** Lines the server logged (JSON objects, or strings when not JSON). */
  log = [];
  #child;
  #exited;
  #options;
  #fetch;

  constructor({ bin, dataDir, ownerEmail, mail, init, args, env, publicUrl, tls }) {
    this.#options = { bin, args, env, publicUrl };
    this.#fetch = tls ? tls.fetch : fetch;
    this.dataDir = dataDir;
    this.ownerEmail = ownerEmail;
    this.mail = mail;
    this.organizationId = init.organization_id;
    this.projectId = init.project_id;
    this.sandbox = init.environments.sandbox;
    this.live = init.environments.live;
    this.apiToken = init.api_token;
  }

  async start() {
    const { bin, args, env } = this.#options;
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    running.add(this);
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      running.delete(this);
      resolve({ code, signal });
    }));
    const listening = new Promise((resolve, reject) => {
      child.once('error', reject);
      this.#exited.then(({ code, signal }) =>
        reject(new Error(`portcullis serve exited (${signal ?? `code ${code}`}) before listening:\n${this.logText()}`)));
      createInterface({ input: child.stderr }).on('line', (line) => {
        let entry = line;
        try {
          entry = JSON.parse(line);
        } catch {}
        this.log.push(entry);
        // The one line that names the bound address (README: --listen with
        // port 0 binds a port of the system's choosing).
        if (entry?.fields?.message === 'portcullis is listening') resolve(entry.fields);
      });
    });
    const fields = await within('portcullis serve logs "portcullis is listening"', listening, START_TIMEOUT_MS);
    this.base = `${this.#fetch === fetch ? 'http' : 'https'}://${fields.address}`;
    this.publicUrl = fields.public_url;
    // Where the browser goes: the public URL when the test chose one (a
    // `localhost` origin for passkeys), else the bound address.
    this.browserBase = this.#options.publicUrl ? this.publicUrl.replace(/\/$/, '') : this.base;
    await eventually('GET /readyz answers 200', async () => (await this.#fetch(this.url('/readyz'))).status === 200,
      { timeout: START_TIMEOUT_MS });
  }

  /**
   * Stops the process (SIGTERM, then SIGKILL after a deadline) and keeps
   * its data: `start()` runs it again on the same port and database (give
   * `startServer` a `port` for that).
   */
  async halt() {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      try {
        await within('the server exits after SIGTERM', this.#exited, 10_000);
      } catch {
        this.#child.kill('SIGKILL');
        await this.#exited;
      }
    }
  }

  /** Stops the server and removes its data. */
  async stop() {
    await this.halt();
    if (process.env.PORTCULLIS_KEEP_TEST_DATA !== '1') {
      await rm(this.dataDir, { recursive: true, force: true });
    }
  }

  /** Ends the process at once and removes its data (the test process's exit handler). */
  kill() {
    this.#child?.kill('SIGKILL');
    if (process.env.PORTCULLIS_KEEP_TEST_DATA !== '1') rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** The server's log as text, for failure messages. */
  logText() {
    return this.log.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
  }

  url(path) {
    return new URL(path, this.base + '/').toString();
  }

  /**
   * A request to the server; `body` is sent as JSON. Options: `token`
   * (a bearer token), `headers`. Returns a `Reply`.
   */
  async request(method, path, body, { token, headers = {} } = {}) {
    const init = { method, headers: { ...headers }, redirect: 'manual' };
    if (token) init.headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await this.#fetch(this.url(path), init);
    return Reply.read(method, path, response);
  }

  /** The management API (`/api/v1…`) with the owner API token. */
  api(method, path, body, options = {}) {
    const full = path.startsWith('/api/') ? path : `/api/v1${path.startsWith('/') ? '' : '/'}${path}`;
    return this.request(method, full, body, { token: this.apiToken, ...options });
  }

  /**
   * The SDK API of an environment: `sdk('POST', '/auth/email/start', {email})`
   * calls `/sdk/v1/{env}/auth/email/start`. Options: `env` (default the
   * sandbox), `token` (an end user's JWT), `headers`.
   */
  sdk(method, path, body, { env = this.sandbox, ...options } = {}) {
    return this.request(method, `/sdk/v1/${env}${path.startsWith('/') ? '' : '/'}${path}`, body, options);
  }

  /**
   * Signs an end user in through the SDK e-mail flow (start, the code from
   * the mail sink, verify); returns the JWT. `signInUserAnswer` returns the
   * whole verify answer (`{token, session, user, mfa}`).
   */
  async signInUser(email, options = {}) {
    return (await this.signInUserAnswer(email, options)).token;
  }

  async signInUserAnswer(email, { env = this.sandbox } = {}) {
    if (!this.mail) throw new Error('signInUser needs a server started with a mail sink');
    const cursor = this.mail.cursor();
    const started = (await this.sdk('POST', '/auth/email/start', { email }, { env })).expect(202);
    const code = await this.mail.waitForCode(email, { after: cursor });
    return (await this.sdk('POST', '/auth/email/verify', { verification_id: started.verification_id, code }, { env }))
      .expect(200);
  }
}

/** An answer: `status`, `headers`, `body` (parsed JSON, or text). */
export class Reply {
  static async read(method, path, response) {
    const text = await response.text();
    let body = text;
    if (/json/.test(response.headers.get('content-type') ?? '') && text) {
      try {
        body = JSON.parse(text);
      } catch {}
    }
    return new Reply(method, path, response.status, response.headers, body);
  }

  constructor(method, path, status, headers, body) {
    Object.assign(this, { method, path, status, headers, body });
  }

  /** The body, if the status is `status`; else throws with the whole answer. */
  expect(status) {
    if (this.status !== status) {
      throw new Error(`${this.method} ${this.path}: expected ${status}, got ${this.status}: ${JSON.stringify(this.body)}`);
    }
    return this.body;
  }

  /** Asserts an RFC 9457 problem with this status and `code`; returns it. */
  expectProblem(status, code) {
    const body = this.expect(status);
    if (body?.code !== code) {
      throw new Error(`${this.method} ${this.path}: expected problem ${code}, got ${JSON.stringify(body)}`);
    }
    return body;
  }
}

/** The environment without PORTCULLIS_* settings of the developer's shell. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
}

const execFileP = promisify(execFile);

/** Runs the binary; retries while it is being replaced (a rebuild in progress). */
async function runWhileBinaryIsThere(bin, args, env) {
  return eventually(`${bin} ${args[0]} runs`, async () => {
    try {
      const { stdout } = await execFileP(bin, args, { env, timeout: START_TIMEOUT_MS });
      return stdout;
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'ETXTBSY') throw e;
      throw Object.assign(new Fatal(`${bin} ${args[0]} failed: ${e.stderr || e.message}`), { cause: e });
    }
  }, { timeout: 30_000, interval: 200, fatal: Fatal });
}

class Fatal extends Error {}
