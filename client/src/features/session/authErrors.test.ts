import { describe, expect, it } from 'vitest';
import { api } from '../../api/http';
import { fakeServer, setup } from '../../test/fakes';
import { changePasswordErrorText, newPasswordProblem, signInErrorText, signUpErrorText, waitText } from './authErrors';

const refused = (status: number, code: string, message: string) => ({ status, data: { error: { code, message } } });

describe('sign-in and sign-up errors', () => {
  it('say what happened in sentences, by code where the code says it all', () => {
    expect(signInErrorText(refused(401, 'invalid_credentials', 'wrong email, username or password'))).toBe('Wrong email, username or password.');
    expect(signUpErrorText(refused(409, 'conflict', 'taken'))).toBe('That email or username is already taken.');
  });

  it('a 403 says what the server says: a disabled account is not the only one', () => {
    expect(signInErrorText(refused(403, 'forbidden', 'this account is disabled'))).toBe('This account is disabled.');
    expect(signInErrorText(refused(403, 'forbidden', 'requests from this origin are not allowed'))).toBe('Requests from this origin are not allowed.');
  });

  it('a 429 says how long to wait, as its Retry-After says', () => {
    const limited = (retryAfter?: number) => ({ ...refused(429, 'rate_limited', 'too many attempts; try again later'), retryAfter });
    expect(signInErrorText(limited(1))).toBe('Too many attempts. Try again in 1 second.');
    expect(signInErrorText(limited(8))).toBe('Too many attempts. Try again in 8 seconds.');
    expect(signUpErrorText(limited(45))).toBe('Too many attempts. Try again in 45 seconds.');
    expect(signInErrorText(limited(600))).toBe('Too many attempts. Try again in 10 minutes.');
    expect(signInErrorText(limited())).toBe('Too many attempts. Wait a moment, then try again.');
  });

  it('rounds waits up, to whole seconds or minutes', () => {
    expect(waitText(0.2)).toBe('1 second');
    expect(waitText(59)).toBe('59 seconds');
    expect(waitText(60)).toBe('1 minute');
    expect(waitText(61)).toBe('2 minutes');
  });

  it('give the server’s own reason as a sentence otherwise', () => {
    expect(signUpErrorText(refused(403, 'forbidden', 'sign-up needs an invitation on this server'))).toBe('Sign-up needs an invitation on this server.');
    expect(signUpErrorText(refused(403, 'forbidden', 'sign-up is closed on this server'))).toBe('Sign-up is closed on this server.');
    expect(signUpErrorText(refused(403, 'forbidden', 'that invitation is not valid (any more)'))).toBe('That invitation is not valid (any more).');
    expect(signUpErrorText({ status: 'FETCH_ERROR', error: 'x' })).toBe('Cannot reach the server. Check your connection.');
  });
});

describe('password change errors', () => {
  it('name the wrong current password and how long to wait', () => {
    expect(changePasswordErrorText(refused(401, 'invalid_credentials', 'wrong password'))).toBe('That is not your current password.');
    expect(changePasswordErrorText({ ...refused(429, 'rate_limited', 'too many'), retryAfter: 4 })).toBe('Too many attempts. Try again in 4 seconds.');
    expect(changePasswordErrorText({ ...refused(429, 'rate_limited', 'too many'), retryAfter: 600 })).toBe('Too many attempts. Try again in 10 minutes.');
    expect(changePasswordErrorText(refused(429, 'rate_limited', 'too many'))).toBe('Too many attempts. Wait a moment, then try again.');
    expect(changePasswordErrorText(refused(400, 'invalid_input', 'password must be 8 to 128 characters'))).toBe('Password must be 8 to 128 characters.');
  });

  it('check a new password by characters, as the server counts them', () => {
    expect(newPasswordProblem('short')).toBe('Too weak: a password needs at least 8 characters.');
    expect(newPasswordProblem('long enough')).toBeNull();
    // Seven characters are too few even as fourteen UTF-16 units.
    expect(newPasswordProblem('😀'.repeat(7))).toBe('Too weak: a password needs at least 8 characters.');
    expect(newPasswordProblem('😀'.repeat(8))).toBeNull();
    expect(newPasswordProblem('x'.repeat(129))).toBe('Too long: a password has at most 128 characters.');
  });
});

describe('a refused sign-in, through the API', () => {
  it('carries the Retry-After of its answer to the words', async () => {
    fakeServer({
      'POST /api/auth/signin': () =>
        new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'too many attempts; try again later' } }), {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': '4' },
        }),
    });
    const { store } = setup();
    const result = await store.dispatch(api.endpoints.signin.initiate({ username: 'ann', password: 'wrong password' }));
    expect('error' in result && signInErrorText(result.error)).toBe('Too many attempts. Try again in 4 seconds.');
  });
});
