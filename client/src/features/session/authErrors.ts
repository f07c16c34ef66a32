// Why signing in or up, or changing the password, failed, in the app's words: by the contract's
// error code where the code says it all on that screen, else the server's own message as a sentence.
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../../api/generated/limits';
import { errorCode, errorText, retryAfter } from '../../api/http';

const TOO_MANY = 'Too many attempts from here. Wait a minute, then try again.';

export function signInErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'invalid_credentials':
      return 'Wrong email, username or password.';
    case 'forbidden': // the only refusal of a sign-in with right credentials
      return 'This account is disabled. Ask an administrator of this server to enable it.';
    case 'rate_limited':
      return TOO_MANY;
    default:
      return errorText(error);
  }
}

/** The refusals of sign-up (closed, invitation needed, invitation not valid) share `forbidden`: the server's message tells them apart. */
export function signUpErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'conflict':
      return 'That email or username is already taken.';
    case 'rate_limited':
      return TOO_MANY;
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

/** "in 40 seconds", "in 3 minutes": how long a rate-limited attempt must wait. */
function waitText(seconds: number | undefined): string {
  if (seconds === undefined) return 'in a minute';
  if (seconds < 90) return `in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  return `in ${Math.ceil(seconds / 60)} minutes`;
}

export function changePasswordErrorText(error: unknown): string {
  switch (errorCode(error)) {
    case 'invalid_credentials':
      return 'That is not your current password.';
    case 'rate_limited':
      return `Too many attempts. Try again ${waitText(retryAfter(error))}.`;
    default:
      return errorText(error);
  }
}
