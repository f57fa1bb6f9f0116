// HTTPS for the SDK's browser tests: a throw-away certificate authority
// made by the test (openssl), a certificate it signs for the test's host
// names, and what trusts it: Chromium (the certificate's key, by
// `--ignore-certificate-errors-spki-list`) and Node's requests (an undici
// agent with the CA). Host names under `portcullis.test` map to 127.0.0.1
// in Chromium (`--host-resolver-rules`), so Portcullis and the example
// application are two origins of one site, as `auth.example.com` and
// `app.example.com` would be.

import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch as undiciFetch } from 'undici';

const run = promisify(execFile);

/** The site of the tests' origins; every name under it resolves to 127.0.0.1. */
export const TEST_SITE = 'portcullis.test';
export const AUTH_HOST = `auth.${TEST_SITE}`;
export const APP_HOST = `app.${TEST_SITE}`;
/** A host whose origin no environment allows. */
export const EVIL_HOST = `evil.${TEST_SITE}`;

/**
 * Makes a CA and a server certificate for every test host (and
 * 127.0.0.1, for Node's own requests by address). Returns
 * `{ dir, caPem, certFile, keyFile, spkiHash, chromiumArgs, fetch, remove }`.
 */
export async function makeTestTls() {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-tls-'));
  const file = (name) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=Portcullis browser-test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', `/CN=${AUTH_HOST}`]);
  await writeFile(file('server.ext'), [
    `subjectAltName=DNS:${AUTH_HOST},DNS:${APP_HOST},DNS:${EVIL_HOST},DNS:localhost,IP:127.0.0.1`,
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n'));
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-sha256', '-extfile', file('server.ext'), '-out', file('server.pem')]);
  const caPem = await readFile(file('ca.pem'), 'utf8');
  const serverPem = await readFile(file('server.pem'), 'utf8');
  const spki = new X509Certificate(serverPem).publicKey.export({ type: 'spki', format: 'der' });
  const spkiHash = createHash('sha256').update(spki).digest('base64');
  const agent = new Agent({ connect: { ca: caPem } });
  return {
    dir,
    caPem,
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    spkiHash,
    chromiumArgs: [
      `--host-resolver-rules=MAP *.${TEST_SITE} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${spkiHash}`,
    ],
    /** `fetch` that trusts the test CA (and only what Node trusts besides). */
    fetch: (url, init = {}) => undiciFetch(url, { ...init, dispatcher: agent }),
    remove: async () => {
      await agent.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
