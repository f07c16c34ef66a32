// Why signing in or up, or changing the password, failed, in the app's words: by the contract's
// error code where the code says it all on that screen, else the server's own message as a sentence.
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../../api/generated/limits';
import { errorCode, errorText, type Refusal } from '../../api/http';
import { counted } from '../../lib/sentence';

/** How long to wait, in words: seconds under a minute, else whole minutes (rounded up). */
export function waitText(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return counted(s, 'second');
  const m = Math.ceil(s / 60);
  return counted(m, 'minute');
}

/** A 429: as long as its `Retry-After` says (the wait grows with each failed sign-in). */
function tooMany(error: unknown): string {
  const wait = (error as Refusal).retryAfter;
  return wait ? `Too many attempts. Try again in ${waitText(wait)}.` : 'Too many attempts. Wait a moment, then try again.';
}

export function signInErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'invalid_credentials':
      return 'Wrong email, username or password.';
    case 'rate_limited':
      return tooMany(error);
    default:
      // Among them `forbidden`: a disabled account, or a page of a foreign origin; the server says which.
      return errorText(error);
  }
}

/** The refusals of sign-up (closed, invitation needed, invitation not valid) share `forbidden`: the server's message tells them apart. */
export function signUpErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'conflict':
      return 'That email or username is already taken.';
    case 'rate_limited':
      return tooMany(error);
    default:
      return errorText(error);
  }
}

/** Why the server would refuse `password` as a new one (it counts characters, not UTF-16 units), or null. */
export function newPasswordProblem(password: string): string | null {
  const chars = [...password].length;
  if (chars < MIN_PASSWORD_CHARS) return `Too weak: a password needs at least ${MIN_PASSWORD_CHARS} characters.`;
  if (chars > MAX_PASSWORD_CHARS) return `Too long: a password has at most ${MAX_PASSWORD_CHARS} characters.`;
  return null;
}

export function changePasswordErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'invalid_credentials':
      return 'That is not your current password.';
    case 'rate_limited':
      return tooMany(error);
    default:
      return errorText(error);
  }
}

/** A refused reset: a link that no longer works (`invalid_input` with the server's reason), a disabled account, or too many tries. */
export function resetPasswordErrorText(error: unknown): string {
  return errorCode(error) === 'rate_limited' ? tooMany(error) : errorText(error);
}
