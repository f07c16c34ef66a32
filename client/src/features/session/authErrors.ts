// Why signing in or up failed, in the app's words: by the contract's error code where the code
// says it all on that screen, else the server's own message as a sentence.
import { errorCode, errorText } from '../../api/http';

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
