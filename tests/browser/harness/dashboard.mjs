// The dashboard's own steps, shared by its tests.

import assert from 'node:assert/strict';

/**
 * Signs `email` (default: the owner) in to the dashboard as a member:
 * `/dashboard/` → `/dashboard/sign-in`, "E-mail" + "Send code", the code
 * from the mail sink, "Code" + "Sign in", and lands on the sandbox's
 * security settings (`/dashboard/environments/{sandbox}/settings/security`,
 * heading "Security"). A member with TOTP gives `totp()`'s code at the
 * "Authenticator code" step. `checkPage(page)` runs on the code step and
 * the TOTP step (an accessibility check, say).
 */
export async function signInToDashboard(page, server, email = server.ownerEmail, { totp, checkPage } = {}) {
  if (!server.mail) throw new Error('signInToDashboard needs a server started with a mail sink');
  await page.goto(new URL('/dashboard/', server.browserBase ?? server.base).toString());
  await page.waitForURL((url) => url.pathname === '/dashboard/sign-in');

  const emailField = page.getByLabel('E-mail', { exact: true });
  assert.equal(await emailField.getAttribute('name'), 'email');
  const cursor = server.mail.cursor();
  await emailField.fill(email);
  await page.getByRole('button', { name: 'Send code' }).click();

  const codeField = page.getByLabel('Code', { exact: true });
  await codeField.waitFor();
  assert.equal(await codeField.getAttribute('name'), 'code');
  if (checkPage) await checkPage(page);
  const code = await server.mail.waitForCode(email, { after: cursor });
  await codeField.fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (totp) {
    await page.waitForURL((url) => url.pathname === '/dashboard/sign-in/totp');
    if (checkPage) await checkPage(page);
    await page.getByLabel('Authenticator code').fill(totp());
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  const landing = `/dashboard/environments/${server.sandbox}/settings/security`;
  await page.waitForURL((url) => url.pathname === landing);
  await page.getByRole('heading', { name: 'Security' }).first().waitFor();
}
