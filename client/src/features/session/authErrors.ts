// Why signing in or up failed, in the app's words: by the contract's error code where the code
// says it all on that screen, else the server's own message as a sentence.
import { errorCode, errorText, type Refusal } from '../../api/http';

/** How long to wait, in words: seconds under a minute, else whole minutes (rounded up). */
export function waitText(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
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
