// Sign in and sign up. Field names and button names are part of what tests and screen readers use.
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useSigninMutation, useSignupMutation } from '../api/http';
import { inviteCodeSpot } from '../features/admin/invites';
import { useAppSelector } from '../app/hooks';
import { signInErrorText, signUpErrorText } from '../features/session/authErrors';
import type { SessionEnd } from '../features/session/sessionSlice';
import { useCodeFromAddress } from '../lib/codeInAddress';
import { navigate } from '../lib/router';
import { ChatIcon } from './icons';

export const inputClass =
  'block w-full rounded-xl border border-slate-300 bg-white px-3.5 py-2.5 text-[15px] text-slate-900 placeholder:text-slate-400 ' +
  'focus:border-accent-500 focus:ring-2 focus:ring-accent-500/30 focus:outline-none ' +
  'dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:placeholder:text-slate-500';

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: ReactNode;
  children: ReactNode;
  id: string;
}) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700 dark:text-slate-300">
        {label}
      </label>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
          {hint}
        </p>
      )}
    </div>
  );
}

export function Shell({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <main className="flex h-full items-center justify-center overflow-y-auto bg-gradient-to-b from-accent-50 to-white px-4 py-10 dark:from-slate-900 dark:to-slate-950">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex flex-col items-center text-center">
          <span className="mb-4 inline-flex h-14 w-14 items-center justify-center rounded-2xl bg-accent-600 text-3xl text-white shadow-lg shadow-accent-600/30">
            <ChatIcon />
          </span>
          <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
          <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{subtitle}</p>
        </div>
        <div className="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900/60">
          {children}
        </div>
      </div>
    </main>
  );
}

export function ErrorNote({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
      {text}
    </p>
  );
}

const ENDED_TEXT: Record<SessionEnd, string> = {
  disabled: 'You were signed out: an administrator of this server disabled your account.',
  expired: 'Your session expired. Sign in again to continue.',
  ended: 'You were signed out (from another tab or device, or by an administrator). Sign in again to continue.',
};

/** Why the last session ended, when it was not signed out from this tab. */
function EndedNote() {
  const ended = useAppSelector((s) => s.session.ended);
  if (!ended) return null;
  return (
    <p role="status" data-testid="session-ended" className="mb-4 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950/50 dark:text-amber-200">
      {ENDED_TEXT[ended]}
    </p>
  );
}

export const submitClass =
  'flex w-full items-center justify-center rounded-xl bg-accent-600 px-4 py-2.5 text-[15px] font-semibold text-white shadow-sm ' +
  'hover:bg-accent-700 disabled:cursor-not-allowed disabled:opacity-60';

export function SignInScreen() {
  const [signin, { isLoading }] = useSigninMutation();
  const [byUsername, setByUsername] = useState(false);
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const loginId = useId();
  const passwordId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const who = login.trim();
    const body = byUsername || !who.includes('@') ? { username: who, password } : { email: who, password };
    const result = await signin(body);
    if ('error' in result && result.error) {
      setError(signInErrorText(result.error));
    } else {
      navigate('/', { replace: true });
    }
  }

  return (
    <Shell title="Sign in to GoChat" subtitle="Welcome back. Your conversations are waiting.">
      <EndedNote />
      <form className="space-y-4" onSubmit={submit} noValidate>
        <Field id={loginId} label={byUsername ? 'Username' : 'Email'}>
          <input
            id={loginId}
            className={inputClass}
            type={byUsername ? 'text' : 'email'}
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={login}
            onChange={(e) => setLogin(e.target.value)}
            placeholder={byUsername ? 'your_name' : 'you@example.com'}
          />
        </Field>
        <button
          type="button"
          className="-mt-2 text-xs font-medium text-accent-600 hover:underline dark:text-accent-400"
          onClick={() => setByUsername((v) => !v)}
        >
          {byUsername ? 'Use email instead' : 'Use username instead'}
        </button>
        <Field id={passwordId} label="Password">
          <input
            id={passwordId}
            className={inputClass}
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <ErrorNote text={error} />
        <button type="submit" className={submitClass} disabled={isLoading || !login.trim() || !password}>
          {isLoading ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="mt-6 text-center text-sm text-slate-500 dark:text-slate-400">
        New to GoChat?{' '}
        <a
          href="/signup"
          className="font-medium text-accent-600 hover:underline dark:text-accent-400"
          onClick={(e) => {
            e.preventDefault();
            navigate('/signup');
          }}
        >
          Create an account
        </a>
      </p>
    </Shell>
  );
}

const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;

export function SignUpScreen() {
  const [signup, { isLoading }] = useSignupMutation();
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const invited = useCodeFromAddress(inviteCodeSpot);
  const [invite, setInvite] = useState(invited ?? '');
  const [error, setError] = useState<string | null>(null);
  const emailId = useId();
  const usernameId = useId();
  const passwordId = useId();
  const inviteId = useId();

  const usernameOk = USERNAME_RE.test(username);
  const passwordOk = password.length >= 8 && password.length <= 128;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!usernameOk) return setError('Usernames are 3–32 letters, digits, “_”, “.” or “-”.');
    if (!passwordOk) return setError('Passwords are 8–128 characters.');
    const inviteCode = invite.trim();
    const result = await signup({ email: email.trim(), username, password, ...(inviteCode ? { inviteCode } : {}) });
    if ('error' in result && result.error) {
      setError(signUpErrorText(result.error));
    } else {
      navigate('/', { replace: true });
    }
  }

  return (
    <Shell title="Create your account" subtitle="Chat in real time with everyone on this server.">
      <form className="space-y-4" onSubmit={submit} noValidate>
        <Field id={emailId} label="Email">
          <input
            id={emailId}
            className={inputClass}
            type="email"
            autoComplete="email"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            placeholder="you@example.com"
          />
        </Field>
        <Field id={usernameId} label="Username" hint="3–32 characters: letters, digits, “_”, “.” or “-”.">
          <input
            id={usernameId}
            className={inputClass}
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            minLength={3}
            maxLength={32}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            aria-invalid={username.length > 0 && !usernameOk}
            aria-describedby={`${usernameId}-hint`}
          />
        </Field>
        <Field id={passwordId} label="Password" hint="At least 8 characters.">
          <input
            id={passwordId}
            className={inputClass}
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={128}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={password.length > 0 && !passwordOk}
            aria-describedby={`${passwordId}-hint`}
          />
        </Field>
        <Field id={inviteId} label="Invite code" hint="Only needed when this server is invitation-only. An invitation link fills it in (after a reload, open the link again).">
          <input
            id={inviteId}
            className={inputClass}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            maxLength={64}
            value={invite}
            onChange={(e) => setInvite(e.target.value)}
            aria-describedby={`${inviteId}-hint`}
          />
        </Field>
        <ErrorNote text={error} />
        <button type="submit" className={submitClass} disabled={isLoading || !email.trim() || !username || !password}>
          {isLoading ? 'Creating account…' : 'Sign up'}
        </button>
      </form>
      <p className="mt-6 text-center text-sm text-slate-500 dark:text-slate-400">
        Already have an account?{' '}
        <a
          href="/signin"
          className="font-medium text-accent-600 hover:underline dark:text-accent-400"
          onClick={(e) => {
            e.preventDefault();
            navigate('/signin');
          }}
        >
          Sign in
        </a>
      </p>
    </Shell>
  );
}
