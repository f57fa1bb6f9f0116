// Debian's Chromium (/usr/bin/chromium), driven by playwright-core. No
// browser is ever downloaded: playwright-core has no download step, and the
// executable is always the system's.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from './server.mjs';

export const CHROMIUM = process.env.PORTCULLIS_CHROMIUM || '/usr/bin/chromium';

/** The flags every launch uses (docs: DEPENDENCIES.md, "browser tests"). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches headless Chromium. Playwright starts it with a fresh
 * `--user-data-dir` in the temporary directory, and removes it at
 * `browser.close()`; each `newPage()` is a new, empty browser context
 * (cookies, storage), so tests sharing one browser do not share a session.
 * `PORTCULLIS_HEADED=1` shows the window (needs a display). `args`: more
 * flags (the SDK tests' host names and certificate, `tls.mjs`).
 */
export async function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.PORTCULLIS_HEADED !== '1',
    args: [...CHROMIUM_ARGS, ...args],
  });
}

/**
 * A page in a new browser context whose relative URLs are the server's
 * (`page.goto('/dashboard/')`). CSP is enforced as in a real browser.
 *
 * Time: pass `clock: Date|number|string` to install Playwright's fake
 * clock at that time before the first navigation (`page.clock.install`);
 * then `await page.clock.fastForward('10:00')` or `runFor(ms)` moves the
 * page's time. Only the browser's time: the server keeps its own clock.
 *
 * `page.problems` collects console errors (CSP refusals show up there) and
 * uncaught exceptions; `expectNoPageProblems(page)` asserts none.
 */
export async function newPage(browser, server, { clock, ...contextOptions } = {}) {
  const context = await browser.newContext({
    baseURL: server?.browserBase ?? server?.base,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
    colorScheme: 'light',
    reducedMotion: 'reduce',
    ...contextOptions,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  if (clock !== undefined) await context.clock.install({ time: clock });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    // Chromium asks every site for /favicon.ico by itself.
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) {
      page.problems.push(`console: ${m.text()}${m.location().url ? ` (${m.location().url})` : ''}`);
    }
  });
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  return page;
}

/**
 * Fails if the page logged a console error or threw (e.g. a CSP refusal).
 * `httpStatuses`: statuses the test provoked on purpose (a refused form
 * answers 400); Chromium logs each such answer as a console error.
 */
export function expectNoPageProblems(page, { httpStatuses = [] } = {}) {
  const provoked = (p) => httpStatuses.some((s) => p.includes(`responded with a status of ${s} `));
  const problems = page.problems.filter((p) => !provoked(p));
  if (problems.length > 0) {
    throw new Error(`the page at ${page.url()} had problems:\n  ${problems.join('\n  ')}`);
  }
}

/**
 * With `PORTCULLIS_SCREENSHOTS=1`, writes `docs/images/dashboard/<name>.png`
 * (the documentation's images); otherwise does nothing, so that test runs
 * leave the tree clean. Returns the path written, or undefined.
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name "${name}": use a-z, 0-9 and -`);
  if (process.env.PORTCULLIS_SCREENSHOTS !== '1') return undefined;
  const dir = join(REPO_ROOT, 'docs/images/dashboard');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'hide' });
  return path;
}
