// The React bindings without a DOM: server rendering for what a render
// shows, and the store contract useSyncExternalStore relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { createPortcullis } from '@portcullis/js';
import { PortcullisProvider, usePortcullis, useSession } from '../dist/index.js';

let envCounter = 0;

function fakeClient(t, answers) {
  const fetch = async (url, init) => {
    const path = new URL(url).pathname.replace(/^\/sdk\/v1\/[^/]+/, '');
    const [status, body] = answers[`${init.method} ${path}`];
    return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  const client = createPortcullis({ environmentId: `env_react${++envCounter}`, baseUrl: 'https://auth.example.com', storage: 'cookie', fetch, checkOnLoad: false });
  t.after(() => client.destroy());
  return client;
}

const authResult = {
  csrf_token: 'csrf_1',
  session: { id: 'ses_1', user_id: 'usr_1', environment_id: 'env', created_at: 'x', expires_at: '2100-01-01T00:00:00Z', last_active_at: null, ip_address: null, user_agent: null, revoked_at: null, revoked_by: null, amr: ['otp'] },
  user: { id: 'usr_1', environment_id: 'env', email: 'ada@example.com', verified_credentials: [] },
  mfa: { required: false, enrolled: false, methods: [], available_methods: [] },
};

function Status() {
  const { status, user, lastEvent } = useSession();
  return createElement('p', null, `${status}|${user?.email ?? '-'}|${lastEvent?.type ?? '-'}`);
}

const render = (client) => renderToString(createElement(PortcullisProvider, { client }, createElement(Status)));

test('useSession renders the client state through the provider, as it changes', async (t) => {
  const client = fakeClient(t, {
    'POST /auth/email/verify': [200, authResult],
    'GET /sessions': [401, { code: 'session_revoked', status: 401, title: 'Revoked', detail: 'revoked' }],
  });
  assert.equal(render(client), '<p>signed_out|-|-</p>');
  await client.email.verify('ver_1', '123456');
  assert.equal(render(client), '<p>signed_in|ada@example.com|signed_in</p>');
  await client.sessions().catch(() => {});
  assert.equal(render(client), '<p>signed_out|-|revoked</p>');
});

test('the store contract: a stable snapshot between changes, a new one and a notification on each change', async (t) => {
  const client = fakeClient(t, { 'POST /auth/email/verify': [200, authResult], 'POST /logout': [204, null] });
  let notified = 0;
  const unsubscribe = client.subscribe(() => notified++);
  const first = client.getSnapshot();
  assert.equal(client.getSnapshot(), first, 'same object while nothing changes');
  await client.email.verify('ver_1', '123456');
  assert.equal(notified, 1);
  const second = client.getSnapshot();
  assert.notEqual(second, first);
  assert.equal(second.status, 'signed_in');
  unsubscribe();
  await client.logout();
  assert.equal(notified, 1, 'no notification after unsubscribing');
  assert.equal(client.getSnapshot().status, 'signed_out');
});

test('usePortcullis returns the provided client, and says what is missing without a provider', (t) => {
  const client = fakeClient(t, {});
  let seen;
  const Probe = () => ((seen = usePortcullis()), null);
  renderToString(createElement(PortcullisProvider, { client }, createElement(Probe)));
  assert.equal(seen, client);
  assert.throws(() => renderToString(createElement(Status)), /no <PortcullisProvider/);
});
