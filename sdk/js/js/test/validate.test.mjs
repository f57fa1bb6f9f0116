import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEmail, checkFactor, checkId, checkRecoveryCode, checkScope, checkSixDigitCode } from '../dist/validate.js';

const refused = (f, field) =>
  assert.throws(f, (e) => e.code === 'validation_failed' && e.status === 0 && (field === undefined || e.errors[0].field === field));

test('e-mail addresses follow the server rules', () => {
  assert.equal(checkEmail('  Ada@Example.com '), 'Ada@Example.com');
  assert.equal(checkEmail("o'neil+tag@mail.example.co.uk"), "o'neil+tag@mail.example.co.uk");
  for (const bad of ['', '   ', 'ada', '@example.com', 'ada@', 'ada@localhost', 'a..b@x.io', '.a@x.io', 'a@-x.io', 'a b@x.io', 'a@x..io', `${'a'.repeat(65)}@x.io`, 42, null]) {
    refused(() => checkEmail(bad), 'email');
  }
});

test('codes are 6 digits once spaces are dropped', () => {
  assert.equal(checkSixDigitCode('123 456'), '123456');
  for (const bad of ['12345', '1234567', 'abcdef', '', undefined, 123456]) refused(() => checkSixDigitCode(bad), 'code');
});

test('recovery codes are 10 characters of the server alphabet, case and dashes ignored', () => {
  assert.equal(checkRecoveryCode('ABCDE-FGHJK'), 'abcdefghjk');
  for (const bad of ['abcde-fghj', 'abcde-fghj0', 'abcde-fghjl', '']) refused(() => checkRecoveryCode(bad));
});

test('ids must not be empty; scopes must be known', () => {
  assert.equal(checkId(' mfa_1 ', 'deviceId'), 'mfa_1');
  refused(() => checkId(' ', 'deviceId'), 'deviceId');
  refused(() => checkId(undefined, 'sessionId'), 'sessionId');
  assert.equal(checkScope('credential:unlink'), 'credential:unlink');
  refused(() => checkScope('admin:all'), 'scope');
});

test('a factor is exactly one of code, recoveryCode and passkey', () => {
  assert.deepEqual(checkFactor({ code: '123456' }), { code: '123456' });
  assert.deepEqual(checkFactor({ recoveryCode: 'abcde-fghjk' }), { recovery_code: 'abcdefghjk' });
  assert.deepEqual(checkFactor({ passkey: true }), { passkey: true });
  refused(() => checkFactor({}), 'factor');
  refused(() => checkFactor(null), 'factor');
  refused(() => checkFactor({ code: '123456', passkey: true }), 'factor');
  refused(() => checkFactor({ passkey: false }), 'passkey');
  refused(() => checkFactor({ code: '12' }), 'code');
});
