// The dashboard in a real browser (issue 16): Settings > Security, users
// and their sessions, members' TOTP, roles, CSRF, the lock. Every change
// made on a page is read back through the management API or the SDK API,
// never only from the page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import {
  startMailSink, startServer, launchBrowser, newPage, stopAll, eventually,
  signInToDashboard, expectAccessible, expectNoPageProblems, screenshot,
} from './harness.mjs';

let mail, server, browser;

before(async () => {
  mail = await startMailSink();
  server = await startServer({ mail });
  browser = await launchBrowser();
});

after(() => stopAll(browser, server, mail));

const security = (env) => `/dashboard/environments/${env}/settings/security`;
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** A member added through the management API. */
async function addMember(email, role) {
  return server.api('POST', '/members', { email, role }).then((r) => r.expect(201));
}

/** A POST from the page itself (same origin, with the member's cookie), as a forger with a session would send it. */
async function postFromPage(page, path, fields) {
  return page.evaluate(async ({ path, fields }) => {
    const r = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    return { status: r.status, text: await r.text() };
  }, { path, fields });
}

const csrfOf = (page) => page.locator('input[name="csrf"]').first().inputValue();

test('the owner changes the JWT expiration to 3 days; the management API reads 259200', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  assert.equal(await page.title(), 'Security · sandbox · Portcullis');
  await expectAccessible(page);
  await screenshot(page, 'security');

  const section = page.locator('#jwt-expiration');
  await section.getByLabel('Number').fill('abc');
  await section.getByRole('button', { name: 'Save expiration' }).click();
  await section.getByText('JWT expiration enter a whole number').waitFor();
  let settings = (await server.api('GET', `/environments/${server.sandbox}/settings/security`)).expect(200);
  assert.equal(settings.jwt_expiration_seconds, 7200, 'a refused value changes nothing');

  await section.getByLabel('Number').fill('31');
  await section.getByLabel('Unit').selectOption('days');
  await section.getByRole('button', { name: 'Save expiration' }).click();
  await page.locator('#jwt-expiration').getByText('must be at most 30 days').waitFor();

  await page.locator('#jwt-expiration').getByLabel('Number').fill('3');
  await page.locator('#jwt-expiration').getByLabel('Unit').selectOption('days');
  await page.locator('#jwt-expiration').getByRole('button', { name: 'Save expiration' }).click();
  await page.locator('#jwt-expiration').getByText('JWT expiration saved: 3 days (259200 seconds).').waitFor();
  settings = (await server.api('GET', `/environments/${server.sandbox}/settings/security`)).expect(200);
  assert.equal(settings.jwt_expiration_seconds, 259200);
  await expectAccessible(page);
  expectNoPageProblems(page, { httpStatuses: [400] });
});

test('the MFA and notification sections save on their own and read back from the management API', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  const settings = () => server.api('GET', `/environments/${server.sandbox}/settings/security`).then((r) => r.expect(200));
  const mfa = page.locator('#mfa');
  await mfa.getByLabel(/Session-based/).check();
  await mfa.getByLabel('Required at sign-in').check();
  await mfa.getByRole('button', { name: 'Save multi-factor settings' }).click();
  await page.locator('#mfa').getByText('Multi-factor settings saved.').waitFor();
  let now = await settings();
  assert.equal(now.mfa.session_enforcement, true);
  assert.equal(now.mfa.enrollment, 'required');

  const notifications = page.locator('#notifications');
  await notifications.getByLabel('environment.locked').uncheck();
  await notifications.getByLabel(/Recipients/).fill('security@example.test, oncall@example.test');
  await notifications.getByRole('button', { name: 'Save notifications' }).click();
  await page.locator('#notifications').getByText('Notification settings saved.').waitFor();
  now = await settings();
  assert.deepEqual(now.notifications.recipients, ['security@example.test', 'oncall@example.test']);
  assert.equal(now.notifications.events['environment.locked'], false);
  assert.equal(now.mfa.session_enforcement, true, 'one section saved leaves the others');

  await page.locator('#notifications').getByLabel(/Recipients/).fill('not an address');
  await page.locator('#notifications').getByRole('button', { name: 'Save notifications' }).click();
  await page.locator('#notifications [role="alert"]').waitFor();
  assert.deepEqual((await settings()).notifications.recipients, ['security@example.test', 'oncall@example.test'],
    'a refused recipient changes nothing');
  await screenshot(page, 'notifications-refused');

  // Put the defaults back for the tests that follow.
  await server.api('PATCH', `/environments/${server.sandbox}/settings/security`, {
    mfa: { session_enforcement: false, enrollment: 'optional' },
    notifications: { recipients: [], events: { 'environment.locked': true } },
  }).then((r) => r.expect(200));
  expectNoPageProblems(page, { httpStatuses: [400] });
});

test('a refused origin leaves the list unchanged and says why', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  const before = (await server.api('GET', `/environments/${server.sandbox}/origins`)).expect(200);
  const section = page.locator('#origins');
  await section.getByLabel('Origin', { exact: true }).fill('https://domain.com/home');
  await section.getByRole('button', { name: 'Create origin' }).click();
  await page.locator('#origins [role="alert"]').waitFor();
  assert.match(await page.locator('#origins [role="alert"]').innerText(), /origin/i);
  assert.equal(await page.locator('#origins').getByLabel('Origin', { exact: true }).inputValue(), 'https://domain.com/home',
    'what was typed stays in the field');
  await screenshot(page, 'origin-refused');
  const after = (await server.api('GET', `/environments/${server.sandbox}/origins`)).expect(200);
  assert.deepEqual(after, before);

  await page.locator('#origins').getByLabel('Origin', { exact: true }).fill('https://app.example.com');
  await page.locator('#origins').getByRole('button', { name: 'Create origin' }).click();
  await page.locator('#origins').getByText('Origin https://app.example.com added.').waitFor();
  const listed = (await server.api('GET', `/environments/${server.sandbox}/origins`)).expect(200);
  assert.ok(JSON.stringify(listed).includes('https://app.example.com'));

  await page.locator('#origins').getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Delete origin' }).waitFor();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Delete origin' }).click();
  await page.locator('#origins').getByText('Origin deleted.').waitFor();
  assert.deepEqual((await server.api('GET', `/environments/${server.sandbox}/origins`)).expect(200), before);
  expectNoPageProblems(page, { httpStatuses: [400] });
});

test('token storage: a refused cookie domain says why and changes nothing; cookie storage saves', async () => {
  // Cookie storage needs an allowed origin; one may be listed already.
  const listed = await server.api('POST', `/environments/${server.sandbox}/origins`, { origin: 'https://storage.example.test' });
  assert.ok([201, 409].includes(listed.status), `${listed.status}`);
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  const storage = async () => (await server.api('GET', `/environments/${server.sandbox}/settings/security`)).expect(200);
  const section = page.locator('#token-storage');
  await section.getByLabel(/HttpOnly cookie/).check();
  await section.getByLabel(/Cookie domain/).fill('example.org');
  await section.getByRole('button', { name: 'Save token storage' }).click();
  await page.locator('#token-storage [role="alert"]').waitFor();
  assert.match(await page.locator('#token-storage [role="alert"]').innerText(), /parent domain/);
  assert.equal(await page.locator('#token-storage').getByLabel(/Cookie domain/).inputValue(), 'example.org');
  assert.equal(await page.locator('#token-storage').getByLabel(/HttpOnly cookie/).isChecked(), true);
  assert.equal((await storage()).token_storage, 'in_app');

  await page.locator('#token-storage').getByLabel(/Cookie domain/).fill('');
  await page.locator('#token-storage').getByRole('button', { name: 'Save token storage' }).click();
  await page.locator('#token-storage').getByText('Token storage saved.').waitFor();
  const now = await storage();
  assert.equal(now.token_storage, 'cookie');
  assert.equal(now.cookie_domain ?? null, null);
  await expectAccessible(page);
  (await server.api('PATCH', `/environments/${server.sandbox}/settings/security`, { token_storage: 'in_app' })).expect(200);
  expectNoPageProblems(page, { httpStatuses: [400] });
});

test('a wildcard origin on live shows the warning and the advisor finding', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  await page.goto(security(server.live));
  await page.getByText('You are working on live').waitFor();
  const findingsBefore = (await server.api('GET', `/environments/${server.live}/security/advisor`)).expect(200);
  assert.ok(findingsBefore.some((f) => f.rule === 'live_allows_every_origin'));
  await page.locator('#advisor').getByText(/allow/i).first().waitFor();

  await page.locator('#origins').getByLabel('Origin', { exact: true }).fill('https://*.example.com');
  await page.locator('#origins').getByRole('button', { name: 'Create origin' }).click();
  await page.locator('#origins').getByText('Origin https://*.example.com added.').waitFor();
  await page.locator('#origins [role="status"]').filter({ hasText: 'https://*.example.com' }).first().waitFor();
  const findings = (await server.api('GET', `/environments/${server.live}/security/advisor`)).expect(200);
  const wildcard = findings.find((f) => f.rule === 'wildcard_origin');
  assert.ok(wildcard, JSON.stringify(findings));
  await page.locator('#advisor li').filter({ hasText: wildcard.message }).waitFor();
  await expectAccessible(page);
  await screenshot(page, 'security-live-wildcard');
  expectNoPageProblems(page);
});

test('Revoke all sessions: a JWT issued before answers 401 session_revoked; the member is the actor', async () => {
  const token = await server.signInUser('revoke-all@example.test');
  (await server.sdk('GET', '/session', undefined, { token })).expect(200);
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  await page.locator('#sessions').getByRole('link', { name: 'Revoke all sessions' }).click();
  const heading = page.getByRole('heading', { name: 'Revoke all sessions in sandbox' });
  await heading.waitFor();
  assert.match(await page.locator('main').innerText(), /Revoke all \d+ live sessions in sandbox/);
  assert.match(await page.locator('main').innerText(), /cannot be undone/);
  await expectAccessible(page);
  await screenshot(page, 'revoke-all-confirm');
  await page.getByRole('button', { name: 'Revoke all sessions' }).click();
  await page.locator('#sessions').getByText(/revoked_count \d+/).waitFor();
  (await server.sdk('GET', '/session', undefined, { token })).expectProblem(401, 'session_revoked');

  // The audit log names the member who did it.
  const members = (await server.api('GET', '/members')).expect(200).members;
  const owner = members.find((m) => m.role === 'owner');
  // Listed once the outbox has fanned it out to the sessions' events.
  let events;
  await eventually('the audit log lists environment.sessions.revoked', async () => {
    events = (await server.api('GET', `/environments/${server.sandbox}/events?type=environment.sessions.revoked`)).expect(200);
    return events.events.length > 0;
  });
  assert.equal(events.events[0].actor.kind, 'member');
  assert.equal(events.events[0].actor.id, owner.id);
  expectNoPageProblems(page);
});

test('on live, Revoke all sessions needs the environment\'s name typed', async () => {
  const token = await server.signInUser('live-user@example.test', { env: server.live });
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  await page.goto(`${security(server.live)}/sessions/revoke`);
  await page.getByLabel(/Type live to confirm/).fill('sandbox');
  await page.getByRole('button', { name: 'Revoke all sessions' }).click();
  await page.getByText('Type live exactly to confirm.').waitFor();
  (await server.sdk('GET', '/session', undefined, { token, env: server.live })).expect(200);
  await page.getByLabel(/Type live to confirm/).fill('live');
  await page.getByRole('button', { name: 'Revoke all sessions' }).click();
  await page.locator('#sessions').getByText(/revoked_count [1-9]/).waitFor();
  (await server.sdk('GET', '/session', undefined, { token, env: server.live })).expectProblem(401, 'session_revoked');
});

test('revoking one session on the user page refuses its JWT; the user\'s other session still works', async () => {
  const email = 'two-sessions@example.test';
  const first = await server.signInUser(email);
  const second = await server.signInUser(email);
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  await page.getByLabel('E-mail').fill('nobody@example.test');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No users with this e-mail.').waitFor();
  await expectAccessible(page);
  await screenshot(page, 'users-empty');
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: email }).click();
  await page.getByRole('heading', { name: email }).waitFor();
  assert.equal(await page.title(), 'User · sandbox · Portcullis');
  await expectAccessible(page);
  await screenshot(page, 'user');
  const sid = claims(first).sid;
  await page.locator(`#session-${sid}`).getByRole('button', { name: 'Revoke' }).click();
  await page.getByText(`Session ${sid} revoked.`).waitFor();
  (await server.sdk('GET', '/session', undefined, { token: first })).expectProblem(401, 'session_revoked');
  (await server.sdk('GET', '/session', undefined, { token: second })).expect(200);
  // A member's revocation is an admin's (API.md): revoked_by names the member.
  const user = (await server.api('GET', `/environments/${server.sandbox}/users?email=${email}`)).expect(200).data[0];
  const sessions = (await server.api('GET', `/environments/${server.sandbox}/users/${user.id}/sessions?revoked=true`)).expect(200);
  const owner = (await server.api('GET', '/members')).expect(200).members.find((m) => m.role === 'owner');
  const revoked = (sessions.data ?? sessions).find((s) => s.id === sid);
  assert.deepEqual(revoked.revoked_by, { kind: 'admin', id: owner.id });
  // The user's page lists the revocation among the user's recent events,
  // by the member, once the outbox has written it.
  await eventually('the user page lists the revocation', async () => {
    await page.goto(`/dashboard/environments/${server.sandbox}/users/${user.id}`);
    const row = page.locator('tr', { hasText: 'admin.user.session.revoked' });
    return (await row.count()) > 0 && (await row.first().innerText()).includes(owner.id);
  });
  expectNoPageProblems(page);
});

test('a viewer sees no lock and no revoke button, and a forged POST from their session gets 403', async () => {
  await addMember('viewer@example.test', 'viewer');
  const page = await newPage(browser, server);
  await signInToDashboard(page, server, 'viewer@example.test');
  await page.locator('#sessions').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Revoke all sessions' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Lock environment' }).count(), 0);
  assert.equal(await page.locator('#lock').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Save expiration' }).count(), 0);
  await expectAccessible(page);
  const csrf = await csrfOf(page);
  const before = (await server.api('GET', `/environments/${server.sandbox}`)).expect(200);
  const lock = await postFromPage(page, `${security(server.sandbox)}/lock`, { csrf, confirmed: 'true' });
  assert.equal(lock.status, 403);
  const revoke = await postFromPage(page, `${security(server.sandbox)}/sessions/revoke`, { csrf, confirmed: 'true' });
  assert.equal(revoke.status, 403);
  const jwt = await postFromPage(page, `${security(server.sandbox)}/jwt-expiration`, { csrf, number: '5', unit: 'minutes' });
  assert.equal(jwt.status, 403);
  const after = (await server.api('GET', `/environments/${server.sandbox}`)).expect(200);
  assert.equal(after.locked, before.locked);
  const settings = (await server.api('GET', `/environments/${server.sandbox}/settings/security`)).expect(200);
  assert.notEqual(settings.jwt_expiration_seconds, 300);

  // A user's page: read only as well.
  const token = await server.signInUser('seen-by-viewer@example.test');
  const user = (await server.api('GET', `/environments/${server.sandbox}/users?email=seen-by-viewer@example.test`)).expect(200).data[0];
  await page.goto(`/dashboard/environments/${server.sandbox}/users/${user.id}`);
  await page.getByRole('heading', { name: 'seen-by-viewer@example.test' }).waitFor();
  assert.equal(await page.getByRole('button', { name: /Revoke/ }).count(), 0);
  await expectAccessible(page);
  const sid = claims(token).sid;
  const forged = await postFromPage(page, `/dashboard/environments/${server.sandbox}/sessions/${sid}/revoke`, { csrf });
  assert.equal(forged.status, 403);
  (await server.sdk('GET', '/session', undefined, { token })).expect(200);
});

test('a POST without the CSRF token, or after sign-out, changes nothing', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  const settings = () => server.api('GET', `/environments/${server.sandbox}/settings/security`).then((r) => r.expect(200));
  const before = await settings();
  const missing = await postFromPage(page, `${security(server.sandbox)}/jwt-expiration`, { number: '5', unit: 'minutes' });
  assert.equal(missing.status, 403);
  const wrong = await postFromPage(page, `${security(server.sandbox)}/jwt-expiration`, { csrf: 'x'.repeat(43), number: '5', unit: 'minutes' });
  assert.equal(wrong.status, 403);
  assert.deepEqual(await settings(), before);

  const csrf = await csrfOf(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.pathname === '/dashboard/sign-in');
  const replayed = await postFromPage(page, `${security(server.sandbox)}/jwt-expiration`, { csrf, number: '5', unit: 'minutes' });
  assert.ok([303, 0].includes(replayed.status) || replayed.status === 403, `replayed after sign-out: ${replayed.status}`);
  assert.deepEqual(await settings(), before);
});

test('lock shows the banner on every page and the SDK answers 423; unlock', async () => {
  const page = await newPage(browser, server);
  await signInToDashboard(page, server);
  await page.locator('#lock').getByRole('link', { name: 'Lock environment' }).click();
  await page.getByRole('heading', { name: 'Lock sandbox' }).waitFor();
  await expectAccessible(page);
  await page.getByRole('button', { name: 'Lock environment' }).click();
  await page.locator('.banner.locked').waitFor();
  (await server.sdk('POST', '/auth/email/start', { email: 'locked@example.test' })).expectProblem(423, 'environment_locked');
  assert.equal((await server.api('GET', `/environments/${server.sandbox}`)).expect(200).locked, true);
  await screenshot(page, 'locked');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  await page.locator('.banner.locked').waitFor();
  await expectAccessible(page);

  await page.goto(security(server.sandbox));
  assert.equal(await page.getByRole('button', { name: 'Save expiration' }).count(), 0, 'read only while locked');
  assert.equal(await page.getByRole('link', { name: 'Revoke all sessions' }).count(), 1,
    'revoking only takes access away: open during an incident');
  await page.locator('#lock').getByRole('link', { name: 'Unlock environment' }).click();
  await page.getByRole('button', { name: 'Unlock environment' }).click();
  await page.locator('#lock').getByText('The environment is unlocked.').waitFor();
  assert.equal(await page.locator('.banner.locked').count(), 0);
  (await server.sdk('POST', '/auth/email/start', { email: 'locked@example.test' })).expect(202);
  expectNoPageProblems(page);
});

test('a member enrols TOTP, then signs in with it; owner-level confirmations ask for it', async () => {
  const email = 'admin-totp@example.test';
  await addMember(email, 'admin');
  const page = await newPage(browser, server);
  await signInToDashboard(page, server, email);
  await page.getByRole('link', { name: email }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  await expectAccessible(page);
  await screenshot(page, 'account-totp');
  const key = (await page.locator('#totp code').innerText()).trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(key), digits: 6, period: 30, algorithm: 'SHA1' });
  let lastStep = -1;
  // Each step's code works once: wait for a step not used yet.
  const nextCode = () => {
    const step = Math.floor(Date.now() / 30000);
    if (step <= lastStep) return null;
    lastStep = step;
    return totp.generate();
  };
  await page.getByLabel('Code from the app').fill(nextCode());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Your authenticator app is set up.').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.pathname === '/dashboard/sign-in');

  let code;
  await eventually('a TOTP step not used yet', () => (code = nextCode()) !== null, { timeout: 35_000 });
  await signInToDashboard(page, server, email, { totp: () => code, checkPage: expectAccessible });

  await page.goto(`${security(server.live)}/sessions/revoke`);
  await page.getByLabel('Authenticator code').waitFor();
  await page.getByLabel(/Type live to confirm/).fill('live');
  await page.getByLabel('Authenticator code').fill('000000');
  await page.getByRole('button', { name: 'Revoke all sessions' }).click();
  await page.locator('main [role="alert"]').waitFor();
  assert.match(await page.locator('main [role="alert"]').innerText(), /code/i);
  expectNoPageProblems(page, { httpStatuses: [400] });
});
