// The vanilla example: one page and the browser SDK. Sign in by e-mail
// code (then a second factor if the environment asks for one), see the
// session, call the application's protected backend route, log out. The
// SDK logs the page out by itself when the session is revoked or expires,
// and in every tab at once.
import { createPortcullis } from '/vendor/portcullis/index.js';

const config = await (await fetch('/config.json')).json();
const portcullis = createPortcullis({
  environmentId: config.environmentId,
  baseUrl: config.baseUrl,
  storage: config.storage, // undefined: the SDK asks the server (GET /config)
});
// For your browser console (and the browser tests).
window.portcullis = portcullis;

const $ = (id) => document.getElementById(id);
let verificationId;
let totpDeviceId;

function render() {
  const { status, session, user } = portcullis.getSnapshot();
  $('status').textContent = status;
  $('signed-out').hidden = status !== 'signed_out';
  $('mfa').hidden = status !== 'mfa_required';
  $('signed-in').hidden = status !== 'signed_in';
  if (status !== 'signed_in') {
    $('backend').textContent = '';
    $('totp-confirm').hidden = true;
  }
  $('user-email').textContent = user?.email ?? '';
  $('session-id').textContent = session?.id ?? '';
  $('expires-at').textContent = session?.expiresAt ?? '';
}

portcullis.onSessionChange((event) => {
  const item = document.createElement('li');
  item.textContent = event.type;
  $('events').append(item);
  render();
});

/** Runs an action; shows a failure's code and detail (PortcullisError). */
function action(fn) {
  return async (event) => {
    event?.preventDefault();
    $('error').textContent = '';
    try {
      await fn();
    } catch (e) {
      $('error').textContent = `${e.code ?? 'error'}: ${e.detail ?? e.message}`;
    }
  };
}

$('email-form').addEventListener('submit', action(async () => {
  ({ verificationId } = await portcullis.email.start($('email').value));
  $('code-form').hidden = false;
  $('code').focus();
}));

$('code-form').addEventListener('submit', action(async () => {
  await portcullis.email.verify(verificationId, $('code').value.trim());
  $('code-form').hidden = true;
  $('code').value = '';
}));

$('mfa-form').addEventListener('submit', action(async () => {
  const value = $('mfa-code').value.trim();
  await portcullis.mfa.verify(/^\d{6}$/.test(value) ? { code: value } : { recoveryCode: value });
  $('mfa-code').value = '';
}));

$('mfa-passkey').addEventListener('click', action(() => portcullis.mfa.verify({ passkey: true })));

$('check').addEventListener('click', action(async () => {
  await portcullis.session();
  $('backend').textContent = 'Portcullis says the session is live.';
}));

$('call-backend').addEventListener('click', action(async () => {
  const response = await portcullis.fetch('/api/me');
  $('backend').textContent = `${response.status} ${JSON.stringify(await response.json())}`;
}));

$('logout').addEventListener('click', action(() => portcullis.logout()));

$('enroll-totp').addEventListener('click', action(async () => {
  const enrollment = await portcullis.mfa.enrollTotp();
  totpDeviceId = enrollment.deviceId;
  $('totp-secret').textContent = enrollment.secret;
  $('totp-confirm').hidden = false;
}));

$('totp-confirm').addEventListener('submit', action(async () => {
  const { recoveryCodes } = await portcullis.mfa.confirmTotp(totpDeviceId, $('totp-code').value.trim());
  $('totp-confirm').hidden = true;
  $('totp-code').value = '';
  await showDevices(recoveryCodes);
}));

$('add-passkey').addEventListener('click', action(async () => {
  const { recoveryCodes } = await portcullis.mfa.registerPasskey('This browser');
  await showDevices(recoveryCodes);
}));

async function showDevices(recoveryCodes) {
  const devices = await portcullis.mfa.devices();
  const names = devices.map((d) => d.kind).join(', ');
  $('mfa-devices').textContent = `Second factors: ${names}.` +
    (recoveryCodes ? ` Recovery codes (shown once): ${recoveryCodes.join(' ')}` : '');
}

await portcullis.ready;
render();
