import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortcullisError, errorFromProblem, networkError, parseRetryAfter, validationError } from '../dist/errors.js';

test('a problem document becomes a PortcullisError with its code, status, detail and field errors', () => {
  const e = errorFromProblem(400, {
    type: 'https://portcullis.dev/problems/validation_failed',
    title: 'Validation failed',
    status: 400,
    code: 'validation_failed',
    detail: 'email is malformed',
    errors: [{ field: 'email', message: 'must contain @' }],
  });
  assert.ok(e instanceof PortcullisError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'PortcullisError');
  assert.equal(e.code, 'validation_failed');
  assert.equal(e.status, 400);
  assert.equal(e.detail, 'email is malformed');
  assert.equal(e.message, 'email is malformed');
  assert.deepEqual(e.errors, [{ field: 'email', message: 'must contain @' }]);
});

test('the status is the HTTP answer, not the body, and malformed field errors are dropped', () => {
  const e = errorFromProblem(401, { code: 'session_revoked', status: 200, errors: 'nope', title: 'Revoked' });
  assert.equal(e.status, 401);
  assert.equal(e.detail, 'Revoked');
  assert.equal(e.errors, undefined);
});

test('a body that is not a problem document is unexpected_response with the status kept', () => {
  for (const body of [null, 'Bad Gateway', { message: 'oops' }, [1], { code: 7 }]) {
    const e = errorFromProblem(502, body);
    assert.equal(e.code, 'unexpected_response');
    assert.equal(e.status, 502);
  }
});

test('network errors have status 0 and keep the cause', () => {
  const cause = new TypeError('Failed to fetch');
  const e = networkError(cause);
  assert.equal(e.code, 'network_error');
  assert.equal(e.status, 0);
  assert.equal(e.cause, cause);
  assert.match(e.detail, /Failed to fetch/);
});

test('validation errors have status 0 and name the field', () => {
  const e = validationError('email', 'must not be empty');
  assert.equal(e.code, 'validation_failed');
  assert.equal(e.status, 0);
  assert.deepEqual(e.errors, [{ field: 'email', message: 'must not be empty' }]);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('30', now), 30);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(errorFromProblem(429, { code: 'rate_limited' }, 12).retryAfter, 12);
});
