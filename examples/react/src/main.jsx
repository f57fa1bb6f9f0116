// The React example: the same flow as the vanilla one, through
// <PortcullisProvider> and the hooks. `useSession()` re-renders the page on
// every session event: signing in, and being logged out when the session
// is revoked, expires, or ends in another tab.
import { createPortcullis } from '@portcullis/js';
import { PortcullisProvider, usePortcullis, useSession } from '@portcullis/react';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

function useAction() {
  const [error, setError] = useState('');
  const run = (fn) => async (event) => {
    event?.preventDefault();
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(`${e.code ?? 'error'}: ${e.detail ?? e.message}`);
    }
  };
  return [error, run];
}

function SignIn() {
  const portcullis = usePortcullis();
  const [verificationId, setVerificationId] = useState(null);
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [error, run] = useAction();
  return (
    <section>
      <h2>Sign in</h2>
      {verificationId === null ? (
        <form id="email-form" onSubmit={run(async () => setVerificationId((await portcullis.email.start(email)).verificationId))}>
          <label htmlFor="email">E-mail address</label>
          <input id="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          <button type="submit">Send me a code</button>
        </form>
      ) : (
        <form id="code-form" onSubmit={run(() => portcullis.email.verify(verificationId, code.trim()))}>
          <label htmlFor="code">The 6-digit code we sent</label>
          <input id="code" inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} required />
          <button type="submit">Sign in</button>
        </form>
      )}
      <p id="error" role="alert">{error}</p>
    </section>
  );
}

function SecondFactor() {
  const portcullis = usePortcullis();
  const [code, setCode] = useState('');
  const [error, run] = useAction();
  return (
    <section>
      <h2>Second factor</h2>
      <form id="mfa-form" onSubmit={run(() => portcullis.mfa.verify({ code: code.trim() }))}>
        <label htmlFor="mfa-code">Code from your authenticator app</label>
        <input id="mfa-code" value={code} onChange={(e) => setCode(e.target.value)} required />
        <button type="submit">Verify</button>
      </form>
      <p id="error" role="alert">{error}</p>
    </section>
  );
}

function Account({ session, user }) {
  const portcullis = usePortcullis();
  const [backend, setBackend] = useState('');
  const [error, run] = useAction();
  return (
    <section>
      <h2>Your session</h2>
      <dl>
        <dt>User</dt><dd id="user-email">{user.email}</dd>
        <dt>Session</dt><dd><code id="session-id">{session.id}</code></dd>
        <dt>Expires</dt><dd><time id="expires-at">{session.expiresAt}</time></dd>
      </dl>
      <button id="check" type="button" onClick={run(() => portcullis.session())}>Check my session</button>
      <button id="call-backend" type="button" onClick={run(async () => {
        const response = await portcullis.fetch('/api/me');
        setBackend(`${response.status} ${JSON.stringify(await response.json())}`);
      })}>Call the protected route</button>
      <button id="logout" type="button" onClick={run(() => portcullis.logout())}>Log out</button>
      <pre id="backend">{backend}</pre>
      <p id="error" role="alert">{error}</p>
    </section>
  );
}

function Page() {
  const { status, session, user, lastEvent } = useSession();
  return (
    <main>
      <h1>Portcullis React example</h1>
      <p>Status: <strong id="status">{status}</strong></p>
      <p>Last event: <span id="last-event">{lastEvent?.type ?? 'none'}</span></p>
      {status === 'signed_out' && <SignIn />}
      {status === 'mfa_required' && <SecondFactor />}
      {status === 'signed_in' && <Account session={session} user={user} />}
    </main>
  );
}

const config = await (await fetch('/config.json')).json();
const portcullis = createPortcullis({
  environmentId: config.environmentId,
  baseUrl: config.baseUrl,
  storage: config.storage,
});
window.portcullis = portcullis;
createRoot(document.getElementById('root')).render(
  <PortcullisProvider client={portcullis}>
    <Page />
  </PortcullisProvider>,
);
