// The browser-test harness of the dashboard (issue 16). Import everything
// from here:
//
//   import { test, before, after } from 'node:test';
//   import { startMailSink, startServer, launchBrowser, newPage,
//            signInToDashboard, expectAccessible, screenshot } from './harness.mjs';
//
//   let mail, server, browser;
//   before(async () => {
//     mail = await startMailSink();               // a real SMTP server
//     server = await startServer({ mail });       // a real portcullis process
//     browser = await launchBrowser();            // Debian's Chromium, headless
//   });
//   after(() => stopAll(browser, server, mail));
//
//   test('…', async () => {
//     const page = await newPage(browser, server); // a fresh context: no cookies
//     await signInToDashboard(page, server);       // as the owner member
//     await expectAccessible(page);                // axe: no serious/critical
//     await screenshot(page, 'security-settings'); // only with PORTCULLIS_SCREENSHOTS=1
//   });
//
// What each piece does (one file per concern under harness/):
// - server.mjs: `startServer()` runs `portcullis init --json` on a fresh
//   temporary data dir (ids and an owner API token: `server.sandbox`,
//   `server.live`, `server.apiToken`, `server.ownerEmail`), then `portcullis
//   serve` on 127.0.0.1 with port 0, learns the port from the JSON log line
//   "portcullis is listening", waits for GET /readyz = 200, and `stop()`
//   kills it. The binary is `PORTCULLIS_BIN` (relative to the repo root) or
//   target/debug/portcullis. Rate limits are off unless `rateLimits: true`.
//   `server.api(method, path, body)` calls the management API as the owner,
//   `server.sdk(method, path, body, {env, token})` an environment's SDK API;
//   both return a Reply (`status`, `body`, `.expect(200)`,
//   `.expectProblem(409, 'code')`). `server.signInUser(email)` signs an end
//   user in through the SDK's e-mail flow and returns the JWT
//   (`signInUserAnswer`: the whole verify answer, session and user ids).
// - mail.mjs: `startMailSink()` (npm smtp-server on a free port). Mark the
//   stream with `mail.cursor()` before an action, then
//   `await mail.waitForCode(to, {after: cursor})` / `mail.waitFor(to, …)`.
// - browser.mjs: `launchBrowser()`, `newPage(browser, server, {clock})`,
//   `screenshot(page, name)`, `expectNoPageProblems(page)`.
// - accessibility.mjs: `expectAccessible(page)`.
// - dashboard.mjs: `signInToDashboard(page, server, email)`.
// - wait.mjs: `eventually(what, probe)`, `within(what, promise)`.
//
// Time: nothing here sleeps to let something happen. Waits are conditions
// with deadlines (`eventually`, Playwright's auto-waiting locators,
// `page.waitForURL`), and browser time is Playwright's clock
// (`newPage(…, {clock: '2026-01-01T00:00:00Z'})`, `page.clock.fastForward`).

export { startServer, freePort, serverBinary, PortcullisServer, Reply, REPO_ROOT, DEFAULT_OWNER_EMAIL } from './harness/server.mjs';
export { startMailSink, MailSink, codeIn } from './harness/mail.mjs';
export { launchBrowser, newPage, expectNoPageProblems, screenshot, CHROMIUM, CHROMIUM_ARGS } from './harness/browser.mjs';
export { expectAccessible } from './harness/accessibility.mjs';
export { signInToDashboard } from './harness/dashboard.mjs';
export { eventually, within } from './harness/wait.mjs';

/** Closes what `before` started, whichever of them did start. */
export async function stopAll(browser, server, mail) {
  await browser?.close();
  await server?.stop();
  await mail?.close();
}
