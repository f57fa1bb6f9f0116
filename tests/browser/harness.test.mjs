// The harness checks itself, without the server: the axe check finds what
// it must (a check that silently finds nothing would pass forever), under a
// strict CSP; the mail sink's waits; the clock; screenshots off by default;
// and `signInToDashboard` against a stand-in that follows the dashboard's
// contract (smoke.test.mjs runs it against the real one, once the binary
// has it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import nodemailer from 'nodemailer';
import {
  startMailSink, launchBrowser, newPage, expectAccessible, expectNoPageProblems,
  screenshot, signInToDashboard,
} from './harness.mjs';

// What the dashboard sends: a strict CSP, no inline script.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main>${body}</main></body></html>`;

let mail, browser, site;

before(async () => {
  mail = await startMailSink();
  browser = await launchBrowser();
  site = await startStandIn(mail);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.http.close(resolve));
  await mail?.close();
});

test('expectAccessible passes on an accessible page under a strict CSP, which it does not break', async () => {
  const p = await newPage(browser, site);
  await p.goto('/plain/good');
  const results = await expectAccessible(p);
  assert.ok(Array.isArray(results.violations));
  expectNoPageProblems(p);
});

test('expectAccessible fails on serious and critical violations, naming rule, help and nodes', async () => {
  const p = await newPage(browser, site);
  await p.goto('/plain/bad');
  await assert.rejects(expectAccessible(p), (e) => {
    assert.match(e.message, /\[critical\] label: Form elements must have labels/);
    assert.match(e.message, /#unlabelled/);
    assert.match(e.message, /\[critical\] button-name/);
    return true;
  });
  // A rule can be turned off, with a reason, in a test; a part of the page
  // left out, or checked alone.
  await assert.rejects(expectAccessible(p, { disableRules: ['label'] }), /button-name/);
  await assert.rejects(expectAccessible(p, { exclude: '#unlabelled' }), (e) => !/\blabel\b:/.test(e.message));
  await expectAccessible(p, { include: 'h1' });
});

test('mail.waitForCode waits for a mail after the cursor, and times out naming the address', async () => {
  const sent = send('early@example.test', '111111 is your sign-in code', 'Your sign-in code is 111111');
  assert.equal(await mail.waitForCode('early@example.test'), '111111');
  await sent;
  const cursor = mail.cursor();
  const waiting = mail.waitForCode('Early@Example.test', { after: cursor });
  await send('early@example.test', '222222 is your sign-in code', 'Your sign-in code is 222222');
  assert.equal(await waiting, '222222');
  await assert.rejects(mail.waitForCode('nobody@example.test', { timeout: 200 }), /a mail to nobody@example\.test arrives/);
});

test("Playwright's clock sets and moves the page's time", async () => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const p = await newPage(browser, site, { clock: start });
  await p.goto('/plain/good');
  // Installed, the clock still flows (htmx's own timers need it), from `start`.
  const now = () => p.evaluate(() => Date.now());
  const before = await now();
  assert.ok(before >= start && before < start + 60_000, `page time ${new Date(before).toISOString()}`);
  await p.clock.fastForward('10:00');
  assert.ok((await now()) >= before + 600_000);
  // Paused, it moves only when told.
  await p.clock.pauseAt(start + 3_600_000);
  assert.equal(await now(), start + 3_600_000);
  await p.clock.runFor(1_000);
  assert.equal(await now(), start + 3_601_000);
});

test('screenshot writes nothing unless PORTCULLIS_SCREENSHOTS=1', async (t) => {
  if (process.env.PORTCULLIS_SCREENSHOTS === '1') return t.skip('screenshots are on in this run');
  const p = await newPage(browser, site);
  await p.goto('/plain/good');
  assert.equal(await screenshot(p, 'harness-self-test'), undefined);
  await assert.rejects(screenshot(p, '../escape'), /use a-z, 0-9 and -/);
});

test('signInToDashboard follows the dashboard contract (on a stand-in)', async () => {
  const p = await newPage(browser, site);
  await signInToDashboard(p, site);
  assert.equal(new URL(p.url()).pathname, `/dashboard/environments/${site.sandbox}/settings/security`);
  await expectAccessible(p);
  expectNoPageProblems(p);
});

function send(to, subject, text) {
  return nodemailer
    .createTransport({ url: mail.url, ignoreTLS: true })
    .sendMail({ from: 'Portcullis <no-reply@portcullis.localhost>', to, subject, text });
}

/**
 * A stand-in for the dashboard's sign-in (the contract in smoke.test.mjs),
 * shaped like the harness's server (`base`, `url()`, `mail`, `sandbox`,
 * `ownerEmail`), plus two plain pages for the axe checks.
 */
async function startStandIn(sink) {
  const sandbox = 'env_standin';
  let code = null;
  const signedIn = new Set();
  const http = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const body = req.method === 'POST' ? new URLSearchParams(await text(req)) : null;
    const html = (status, content, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, ...headers });
      res.end(content);
    };
    const redirect = (location, headers = {}) => {
      res.writeHead(303, { location, ...headers });
      res.end();
    };
    const cookie = /session=([a-z0-9]+)/.exec(req.headers.cookie ?? '')?.[1];
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /plain/good':
        return html(200, page('Good', '<h1>Good</h1><form><label for="f">Name</label><input id="f" name="f"><button>Save</button></form>'));
      case 'GET /plain/bad':
        return html(200, page('Bad', '<h1>Bad</h1><input id="unlabelled"><button id="empty"></button>'));
      case 'GET /dashboard/':
        return signedIn.has(cookie) ? redirect(`/dashboard/environments/${sandbox}/settings/security`) : redirect('/dashboard/sign-in');
      case 'GET /dashboard/sign-in':
        return html(200, page('Sign in', `<h1>Sign in</h1><form method="post" action="/dashboard/sign-in">
          <label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="email" required>
          <button type="submit">Send code</button></form>`));
      case 'POST /dashboard/sign-in':
        code = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
        await send(body.get('email'), `${code} is your sign-in code`, `Your sign-in code is ${code}`);
        return html(200, page('Enter the code', `<h1>Enter the code</h1><form method="post" action="/dashboard/sign-in/code">
          <label for="code">Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
          <button type="submit">Sign in</button></form>`));
      case 'POST /dashboard/sign-in/code': {
        if (body.get('code') !== code) return html(400, page('Wrong code', '<h1>Wrong code</h1>'));
        const session = Math.random().toString(36).slice(2);
        signedIn.add(session);
        return redirect(`/dashboard/environments/${sandbox}/settings/security`, { 'set-cookie': `session=${session}; HttpOnly; SameSite=Strict; Path=/dashboard` });
      }
      case `GET /dashboard/environments/${sandbox}/settings/security`:
        if (!signedIn.has(cookie)) return redirect('/dashboard/sign-in');
        return html(200, page('Security', '<h1>Security</h1><p>Settings.</p>'));
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${http.address().port}`;
  return { http, base, url: (path) => new URL(path, base + '/').toString(), mail: sink, sandbox, ownerEmail: 'owner@example.test' };
}

async function text(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
