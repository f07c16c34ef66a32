import { useEffect } from 'react';
import { useCurrentUserQuery } from '../api/http';
import { useAppSelector } from '../app/hooks';
import { inviteFromSearch } from '../features/admin/invites';
import { navigate, useRoute } from '../lib/router';
import { AdminPage } from './admin/AdminPage';
import { SignInScreen, SignUpScreen } from './AuthScreen';
import { ResetPasswordScreen } from './ResetPasswordScreen';
import { Messenger } from './Messenger';
import { ChatIcon } from './icons';

function Splash({ text, action }: { text: string; action?: { label: string; onClick: () => void } }) {
  return (
    <main className="flex h-full flex-col items-center justify-center gap-4 text-slate-500 dark:text-slate-400">
      <span className="inline-flex h-14 w-14 animate-pulse items-center justify-center rounded-2xl bg-accent-600 text-3xl text-white motion-reduce:animate-none">
        <ChatIcon />
      </span>
      <p role="status">{text}</p>
      {action && (
        <button
          type="button"
          onClick={action.onClick}
          className="rounded-lg bg-accent-600 px-4 py-2 text-sm font-semibold text-white hover:bg-accent-700"
        >
          {action.label}
        </button>
      )}
    </main>
  );
}

export function App() {
  const { refetch } = useCurrentUserQuery();
  const status = useAppSelector((s) => s.session.status);
  const isAdmin = useAppSelector((s) => s.session.user?.role === 'admin');
  const route = useRoute();

  useEffect(() => {
    // A password reset link works signed in or out: its page decides.
    if (route.name === 'resetPassword') return;
    if (status === 'signedOut' && route.name !== 'signin' && route.name !== 'signup') {
      // An invitation link (`/?invite=…`) leads to the sign-up form with its code.
      const invited = inviteFromSearch(location.search) !== null;
      navigate(invited ? `/signup${location.search}` : '/signin', { replace: true });
    }
    if (status === 'signedIn' && (route.name === 'signin' || route.name === 'signup')) navigate('/', { replace: true });
    if (status === 'signedIn' && route.name === 'admin' && !isAdmin) navigate('/', { replace: true });
  }, [status, route.name, isAdmin]);

  if (route.name === 'resetPassword') return <ResetPasswordScreen />;
  if (status === 'unknown') return <Splash text="Loading…" />;
  if (status === 'unreachable') return <Splash text="Cannot reach the server." action={{ label: 'Try again', onClick: () => void refetch() }} />;
  if (status === 'signedOut') return route.name === 'signup' ? <SignUpScreen /> : <SignInScreen />;
  if (route.name === 'admin' && isAdmin) return <AdminPage />;
  return <Messenger route={route} />;
}
