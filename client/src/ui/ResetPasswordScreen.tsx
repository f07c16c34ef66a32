// The page of an admin's password reset link (`/reset-password#<code>`): a new password, twice.
// Success signs in as the account and loads the app afresh (whoever this tab was signed in as
// before, nothing of theirs stays in memory). The code leaves the address bar as the page opens
// (see lib/codeInAddress), so a reload has none and asks for the link again.
import { useId, useState, type FormEvent } from 'react';
import { useResetPasswordMutation } from '../api/http';
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../api/generated/limits';
import { useAppSelector } from '../app/hooks';
import { newPasswordProblem, resetPasswordErrorText } from '../features/session/authErrors';
import { resetCodeSpot } from '../features/session/passwordReset';
import { useCodeFromAddress } from '../lib/codeInAddress';
import { ErrorNote, Field, inputClass, Shell, submitClass } from './AuthScreen';

export function ResetPasswordScreen() {
  const [reset, { isLoading }] = useResetPasswordMutation();
  const code = useCodeFromAddress(resetCodeSpot);
  const signedInAs = useAppSelector((s) => (s.session.status === 'signedIn' ? s.session.user?.username : null));
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const nextId = useId();
  const repeatId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (isLoading || !code) return;
    const problem = newPasswordProblem(next) ?? (next !== repeat ? 'The two passwords differ: type the same one twice.' : null);
    if (problem) return setError(problem);
    setError(null);
    const result = await reset({ code, newPassword: next });
    if ('error' in result && result.error) setError(resetPasswordErrorText(result.error));
    else location.replace('/');
  }

  return (
    <Shell title="Set a new password" subtitle="Your admin made this link for you. It works once.">
      {!code ? (
        <ErrorNote text="Open the link your admin sent you again: this page keeps its code only while it is open, never in the address bar, so a reload loses it. If the link is incomplete or no longer works, ask your admin for a new one." />
      ) : (
        <form className="space-y-4" onSubmit={submit} noValidate>
          {signedInAs && (
            <p role="status" className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950/50 dark:text-amber-200">
              This tab is signed in as {signedInAs}. Setting the password signs it in as the account of this link instead.
            </p>
          )}
          <Field id={nextId} label="New password" hint={`${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters. Every device signed in to the account is signed out.`}>
            <input
              id={nextId}
              className={inputClass}
              type="password"
              autoComplete="new-password"
              autoFocus
              required
              aria-describedby={`${nextId}-hint`}
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
          </Field>
          <Field id={repeatId} label="Repeat new password">
            <input
              id={repeatId}
              className={inputClass}
              type="password"
              autoComplete="new-password"
              required
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          </Field>
          <ErrorNote text={error} />
          <button type="submit" className={submitClass} disabled={isLoading || !next || !repeat}>
            {isLoading ? 'Setting it…' : 'Set password and sign in'}
          </button>
        </form>
      )}
    </Shell>
  );
}
