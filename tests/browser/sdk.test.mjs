// The browser SDK (@portcullis/js, @portcullis/react) end to end (issue
// 17): the example applications in Debian's Chromium, on an origin of
// their own (https://app.portcullis.test:PORT) calling a real Portcullis
// that serves HTTPS itself (https://auth.portcullis.test:PORT), with a
// certificate from a CA this file makes, and the codes from a real SMTP
// sink. The sandbox keeps tokens in the app (in-app storage); the live
// environment keeps them in cookies, on the domain both hosts share.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { freePort, launchBrowser, newPage, startMailSink, startServer, stopAll } from './harness.mjs';
import { startExample } from './harness/example.mjs';
import { AUTH_HOST, EVIL_HOST, TEST_SITE, makeTestTls } from './harness/tls.mjs';

let tls, mail, server, browser, inApp, cookie, react;

before(async () => {
  tls = await makeTestTls();
  mail = await startMailSink();
  const port = await freePort();
  server = await startServer({ mail, tls, port, publicUrl: `https://${AUTH_HOST}:${port}` });
  inApp = await startExample('vanilla', { server, env: server.sandbox, tls });
  cookie = await startExample('vanilla', { server, env: server.live, tls });
  react = await startExample('react', { server, env: server.sandbox, tls });
  for (const app of [inApp, react]) {
    (await server.api('POST', `/environments/${server.sandbox}/origins`, { origin: app.url() })).expect(201);
  }
  (await server.api('PATCH', `/environments/${server.sandbox}/settings/security`, {
    passkeys: { rp_id: TEST_SITE, origins: [inApp.url()] },
  })).expect(200);
  (await server.api('POST', `/environments/${server.live}/origins`, { origin: cookie.url() })).expect(201);
  (await server.api('PATCH', `/environments/${server.live}/settings/security`, {
    token_storage: 'cookie',
    cookie_domain: TEST_SITE,
  })).expect(200);
  browser = await launchBrowser({ args: tls.chromiumArgs });
});

after(async () => {
  await Promise.all([inApp?.stop(), cookie?.stop(), react?.stop()]);
  await stopAll(browser, server, mail);
  await tls?.remove();
});

// ---- helpers --------------------------------------------------------------

/** A page of `app` in a fresh browser context (or `context`), loaded. */
async function openApp(app, { clock, context, host } = {}) {
  const page = context
    ? await context.newPage()
    : await newPage(browser, null, { baseURL: app.url(host), clock });
  await page.goto(context ? app.url(host) : '/');
  await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'loading');
  return page;
}

const statusOf = (page) => page.locator('#status').textContent();

/**
 * Waits until the element `id` shows `text` (a substring); on timeout,
 * fails with what the page showed, its error line included.
 */
async function waitForText(page, id, text) {
  try {
    await page.waitForFunction(([id, text]) => document.getElementById(id)?.textContent.includes(text), [id, text]);
  } catch (e) {
    const shown = await page.evaluate((id) => ({
      [id]: document.getElementById(id)?.textContent,
      error: document.getElementById('error')?.textContent,
      status: document.getElementById('status')?.textContent,
    }), id).catch(() => ({}));
    throw new Error(`#${id} never showed "${text}": ${JSON.stringify(shown)}; page problems: ${page.problems}`, { cause: e });
  }
}

const waitForStatus = (page, status) => waitForText(page, 'status', status);

/** The session events the page listed, in order. */
const eventsOf = (page) => page.locator('#events li').allTextContents();

/** Signs in through the page's form with the code the SMTP sink received. */
async function signIn(page, email, { expect = 'signed_in' } = {}) {
  await page.locator('#email').fill(email);
  const cursor = mail.cursor();
  await page.locator('#email-form button').click();
  const code = await mail.waitForCode(email, { after: cursor });
  await page.locator('#code').fill(code);
  await page.locator('#code-form button').click();
  await waitForStatus(page, expect);
}

/** The page's SDK snapshot (session and user ids). */
const snapshotOf = (page) => page.evaluate(() => window.portcullis.getSnapshot());

let users = 0;
/** An address no other test used: each test has a user of its own. */
const freshEmail = (what) => `${what}-${++users}@example.test`;

function totp(secret, at = Date.now()) {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' })
    .generate({ timestamp: at });
}

async function setSandbox(patch) {
  (await server.api('PATCH', `/environments/${server.sandbox}/settings/security`, patch)).expect(200);
}

// ---- in-app storage ---------------------------------------------------------

test('signs in with the e-mailed code, shows the session, and the backend verifies the JWT against the JWKS', async () => {
  const page = await openApp(inApp);
  assert.equal(await statusOf(page), 'signed_out');
  const email = freshEmail('ada');
  await signIn(page, email);
  assert.equal(await page.locator('#user-email').textContent(), email);
  const { session } = await snapshotOf(page);
  assert.match(await page.locator('#session-id').textContent(), /^ses_/);
  assert.equal(await page.locator('#session-id').textContent(), session.id);
  assert.deepEqual(await eventsOf(page), ['signed_in']);

  await page.locator('#call-backend').click();
  await waitForText(page, 'backend', '200');
  const answer = JSON.parse((await page.locator('#backend').textContent()).replace(/^200 /, ''));
  assert.equal(answer.session_id, session.id);
  assert.equal(answer.email, email);
  assert.equal(answer.via, 'bearer');
  await page.context().close();
});

for (const scope of ['session', 'user', 'environment']) {
  const trigger = scope === 'user' ? 'when the tab becomes visible again' : 'on its next SDK call';
  test(`a ${scope}-wide revocation logs the page out ${trigger}, with the revoked event`, async () => {
    const page = await openApp(inApp);
    await signIn(page, freshEmail(`revoked-${scope}`));
    const { session, user } = await snapshotOf(page);
    const env = `/environments/${server.sandbox}`;
    const path = {
      session: `${env}/sessions/${session.id}/revoke`,
      user: `${env}/users/${user.id}/sessions/revoke`,
      environment: `${env}/sessions/revoke`,
    }[scope];
    (await server.api('POST', path, {})).expect(200);
    assert.equal(await statusOf(page), 'signed_in', 'nothing happens before the next call');
    if (scope === 'user') {
      // The tab coming back into view: the SDK asks GET /session by itself.
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    } else {
      await page.locator('#check').click();
    }
    await waitForStatus(page, 'signed_out');
    assert.deepEqual(await eventsOf(page), ['signed_in', 'revoked']);
    if (scope !== 'user') assert.match(await page.locator('#error').textContent(), /^session_revoked: /);
    assert.equal(await page.evaluate(() => window.portcullis.getToken()), null);
    assert.deepEqual(await page.evaluate(() => Object.values(localStorage).filter((v) => v.includes('eyJ'))), []);
    await page.context().close();
  });
}

test('the expiry timer logs the page out when the browser clock passes exp', async () => {
  const page = await openApp(inApp, { clock: new Date() });
  await signIn(page, freshEmail('expiring'));
  const { session } = await snapshotOf(page);
  const left = Date.parse(session.expiresAt) - (await page.evaluate(() => Date.now()));
  assert.ok(left > 7000 * 1000, `about two hours left (${left} ms)`);
  await page.clock.fastForward(left - 60_000);
  assert.equal(await statusOf(page), 'signed_in', 'a minute before exp');
  await page.clock.fastForward(61_000);
  await waitForStatus(page, 'signed_out');
  assert.deepEqual(await eventsOf(page), ['signed_in', 'expired']);
  await page.context().close();
});

test('logging out in one tab logs out the other tabs of the origin', async () => {
  const context = await browser.newContext({ baseURL: inApp.url() });
  const first = await openApp(inApp, { context });
  await signIn(first, freshEmail('two-tabs'));
  const second = await openApp(inApp, { context });
  await waitForStatus(second, 'signed_in');
  const { session } = await snapshotOf(first);
  assert.equal((await snapshotOf(second)).session.id, session.id);
  const token = await first.evaluate(() => window.portcullis.getToken());

  await first.locator('#logout').click();
  await waitForStatus(first, 'signed_out');
  await waitForStatus(second, 'signed_out');
  assert.deepEqual(await eventsOf(second), ['logged_out']);
  (await server.sdk('GET', '/session', undefined, { token })).expectProblem(401, 'session_revoked');
  await context.close();
});

test('with the server stopped calls reject with a network error and the user stays signed in', async () => {
  const page = await openApp(inApp);
  await signIn(page, freshEmail('offline'));
  await server.halt();
  try {
    await page.locator('#check').click();
    await waitForText(page, 'error', 'network_error');
    assert.equal(await statusOf(page), 'signed_in');
    assert.notEqual(await page.evaluate(() => window.portcullis.getToken()), null);
  } finally {
    await server.start();
  }
  await page.locator('#check').click();
  await waitForText(page, 'backend', 'the session is live');
  assert.equal(await page.locator('#error').textContent(), '');
  assert.deepEqual(await eventsOf(page), ['signed_in']);
  await page.context().close();
});

// ---- cookie storage -----------------------------------------------------------

test('cookie mode: no script can read the JWT, changes need the CSRF header, the backend reads the cookie', async () => {
  const page = await openApp(cookie);
  await signIn(page, freshEmail('cookie'));
  const jar = await page.context().cookies();
  const jwt = jar.find((c) => c.name === 'portcullis_session');
  assert.ok(jwt, `the session cookie is set: ${jar.map((c) => c.name)}`);
  assert.equal(jwt.httpOnly, true);
  assert.equal(jwt.secure, true);
  assert.equal(jwt.sameSite, 'Lax');
  assert.equal(jwt.domain, `.${TEST_SITE}`);
  const visible = await page.evaluate(() => ({
    cookie: document.cookie,
    local: JSON.stringify(Object.entries(localStorage)),
    session: JSON.stringify(Object.entries(sessionStorage)),
    token: window.portcullis.getToken(),
  }));
  for (const [where, text] of Object.entries(visible)) {
    assert.ok(!String(text).includes(jwt.value), `${where} holds the JWT`);
    assert.ok(!/eyJ[\w-]+\.[\w-]+\./.test(String(text)), `${where} holds a JWT: ${text}`);
  }
  assert.equal(visible.token, null);
  assert.match(visible.cookie, /portcullis_csrf=/, 'the CSRF value is readable on the shared domain');

  // The application's backend verifies the cookie it receives.
  await page.locator('#call-backend').click();
  await waitForText(page, 'backend', '200');
  assert.match(await page.locator('#backend').textContent(), /"via":"cookie"/);

  // A change that carries the cookie but not the CSRF header is refused.
  const bare = await page.evaluate(async ([base, env]) => {
    const r = await fetch(`${base}/sdk/v1/${env}/logout`, {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}',
    });
    return { status: r.status, body: await r.json() };
  }, [server.publicUrl.replace(/\/$/, ''), server.live]);
  assert.equal(bare.status, 403);
  assert.equal(bare.body.code, 'forbidden');
  await page.locator('#check').click();
  await waitForText(page, 'backend', 'the session is live');

  // The SDK sends it: logging out works, and clears the cookies.
  await page.locator('#logout').click();
  await waitForStatus(page, 'signed_out');
  const left = (await page.context().cookies()).map((c) => c.name);
  assert.ok(!left.includes('portcullis_session'), `cookies left: ${left}`);
  await page.context().close();
});

test('cookie mode: a page on an origin that is not allowed cannot call the SDK', async () => {
  const page = await newPage(browser, null, { baseURL: cookie.url(EVIL_HOST) });
  await page.goto('/');
  await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'loading');
  const code = await page.evaluate(() => window.portcullis.email.start('eve@example.test').catch((e) => e.code));
  assert.equal(code, 'network_error', 'the SDK cannot read the answer');
  const outcome = await page.evaluate(async ([base, env]) => {
    try {
      await fetch(`${base}/sdk/v1/${env}/session`, { credentials: 'include' });
      return 'answered';
    } catch (e) {
      return e.name;
    }
  }, [server.publicUrl.replace(/\/$/, ''), server.live]);
  assert.equal(outcome, 'TypeError', 'the browser withholds the answer');
  const direct = await server.sdk('GET', '/session', undefined, { env: server.live, headers: { origin: cookie.url(EVIL_HOST) } });
  direct.expectProblem(403, 'origin_not_allowed');
  await page.context().close();
});

// ---- MFA ----------------------------------------------------------------------

test('TOTP: enrol with a code computed here, then sign in with a second factor', async () => {
  const page = await openApp(inApp);
  const email = freshEmail('totp');
  await signIn(page, email);
  await page.locator('#enroll-totp').click();
  await page.locator('#totp-confirm').waitFor();
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/, 'a base32 secret');
  await page.locator('#totp-code').fill(totp(secret));
  await page.locator('#totp-confirm button').click();
  await waitForText(page, 'mfa-devices', 'totp');
  assert.match(await page.locator('#mfa-devices').textContent(), /Recovery codes/);
  await page.locator('#logout').click();
  await waitForStatus(page, 'signed_out');

  await setSandbox({ mfa: { session_enforcement: true } });
  try {
    await signIn(page, email, { expect: 'mfa_required' });
    await page.locator('#mfa-code').fill(totp(secret, Date.now() + 30_000));
    await page.locator('#mfa-form button').click();
    await waitForStatus(page, 'signed_in');
    assert.deepEqual((await eventsOf(page)).slice(-2), ['mfa_required', 'refreshed']);
  } finally {
    await setSandbox({ mfa: { session_enforcement: false } });
  }
  await page.context().close();
});

test('passkey: register one with Chromium\'s virtual authenticator, then use it as the second factor', async () => {
  const page = await openApp(inApp);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const email = freshEmail('passkey');
  await signIn(page, email);
  await page.locator('#add-passkey').click();
  await waitForText(page, 'mfa-devices', 'passkey');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds the new credential');
  await page.locator('#logout').click();
  await waitForStatus(page, 'signed_out');

  await setSandbox({ mfa: { session_enforcement: true } });
  try {
    await signIn(page, email, { expect: 'mfa_required' });
    await page.locator('#mfa-passkey').click();
    await waitForStatus(page, 'signed_in');
    const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.ok(after[0].signCount > credentials[0].signCount, 'the credential signed the assertion');
  } finally {
    await setSandbox({ mfa: { session_enforcement: false } });
  }
  await page.context().close();
});

// ---- React --------------------------------------------------------------------

test('the React example re-renders on sign-in and on revocation', async () => {
  const page = await openApp(react);
  assert.equal(await statusOf(page), 'signed_out');
  const email = freshEmail('react');
  await signIn(page, email);
  assert.equal(await page.locator('#user-email').textContent(), email);
  assert.equal(await page.locator('#last-event').textContent(), 'signed_in');
  const { session } = await snapshotOf(page);
  (await server.api('POST', `/environments/${server.sandbox}/sessions/${session.id}/revoke`, {})).expect(200);
  await page.locator('#check').click();
  await waitForStatus(page, 'signed_out');
  assert.equal(await page.locator('#last-event').textContent(), 'revoked');
  assert.equal(await page.locator('#email').count(), 1, 'the sign-in form is back');
  await page.context().close();
});
