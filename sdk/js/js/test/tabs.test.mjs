import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTabChannel } from '../dist/tabs.js';
import { memoryStore } from '../dist/storage.js';

test('BroadcastChannel carries a message to the other instances of the same name only', async () => {
  const received = [];
  let resolve;
  const arrived = new Promise((r) => (resolve = r));
  const a = openTabChannel('portcullis:env_tabs', () => assert.fail('the sender does not hear itself'));
  const b = openTabChannel('portcullis:env_tabs', (m) => {
    received.push(m);
    resolve();
  });
  const other = openTabChannel('portcullis:env_other', () => assert.fail('another environment does not hear it'));
  a.post({ type: 'logged_out', sessionId: 'ses_1' });
  await arrived;
  assert.deepEqual(received, [{ type: 'logged_out', sessionId: 'ses_1' }]);
  a.close();
  b.close();
  other.close();
});

test('without BroadcastChannel the storage event is the fallback', () => {
  const listeners = new Set();
  const storage = memoryStore();
  const env = {
    localStorage: storage,
    addEventListener: (_type, l) => listeners.add(l),
    removeEventListener: (_type, l) => listeners.delete(l),
  };
  const received = [];
  const channel = openTabChannel('portcullis:env_1', (m) => received.push(m), env);
  channel.post({ type: 'revoked', sessionId: 'ses_9' });
  // What the browser does in the other tabs when the key is written.
  const written = storage.getItem('portcullis:env_1:signal');
  assert.match(written, /"revoked"/);
  for (const l of listeners) {
    l({ key: 'portcullis:env_1:signal', newValue: written });
    l({ key: 'unrelated', newValue: written });
    l({ key: 'portcullis:env_1:signal', newValue: '{garbage' });
  }
  assert.deepEqual(received, [{ type: 'revoked', sessionId: 'ses_9' }]);
  channel.close();
  assert.equal(listeners.size, 0);
});

test('with neither, posting is a no-op', () => {
  const channel = openTabChannel('x', () => assert.fail(), {});
  channel.post({ type: 'logged_out', sessionId: null });
  channel.close();
});
