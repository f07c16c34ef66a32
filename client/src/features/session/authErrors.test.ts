import { describe, expect, it } from 'vitest';
import { changePasswordErrorText, newPasswordProblem, signInErrorText, signUpErrorText } from './authErrors';

const refused = (status: number, code: string, message: string) => ({ status, data: { error: { code, message } } });

describe('sign-in and sign-up errors', () => {
  it('say what happened in sentences, by code where the code says it all', () => {
    expect(signInErrorText(refused(401, 'invalid_credentials', 'wrong email, username or password'))).toBe('Wrong email, username or password.');
    expect(signInErrorText(refused(403, 'forbidden', 'this account is disabled'))).toBe(
      'This account is disabled. Ask an administrator of this server to enable it.',
    );
    expect(signInErrorText(refused(429, 'rate_limited', 'too many requests'))).toBe('Too many attempts from here. Wait a minute, then try again.');
    expect(signUpErrorText(refused(409, 'conflict', 'taken'))).toBe('That email or username is already taken.');
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
    expect(changePasswordErrorText(refused(429, 'rate_limited', 'too many'))).toBe('Too many attempts. Try again in a minute.');
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
