// Every account, oldest first: make admin or member again, disable or enable, a password reset
// link. Disabling ends the person's sessions at once.
import { useState } from 'react';
import {
  useAdminUsersInfiniteQuery,
  useCreatePasswordResetMutation,
  useSetUserDisabledMutation,
  useSetUserRoleMutation,
} from '../../api/admin';
import { errorText } from '../../api/http';
import type { AdminUser, PasswordReset } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { resetLink } from '../../features/session/passwordReset';
import { buttonClass, ConfirmDialog, Dialog } from '../Dialog';
import { CopyField } from './CopyField';
import { Section } from './Section';

/** The link just made, to copy and hand over (this server sends no email). */
function ResetLinkDialog({ user, reset, onClose }: { user: AdminUser; reset: PasswordReset; onClose: () => void }) {
  return (
    <Dialog title={`Password reset link for ${user.username}`} onClose={onClose} wide>
      <div className="space-y-3 px-5 pb-3" data-testid="reset-link">
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Send this link to {user.username} ({user.email}) yourself, privately. Whoever opens it can set the account&apos;s password once,
          until {new Date(reset.expiresAt).toLocaleString()}; every device signed in to it is then signed out. Until then the
          password stays what it is. A newer link replaces this one.
        </p>
        <CopyField value={resetLink(location.origin, reset.code)} name="Password reset link" label="Copy link" />
      </div>
      <div className="flex justify-end border-t border-slate-200 px-5 py-3 dark:border-slate-800">
        <button type="button" autoFocus onClick={onClose} className={buttonClass('plain')}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

function AccountRow({ user, isMe }: { user: AdminUser; isMe: boolean }) {
  const [setDisabled, { isLoading, error }] = useSetUserDisabledMutation();
  const [setRole, { isLoading: changingRole, error: roleError }] = useSetUserRoleMutation();
  const [confirming, setConfirming] = useState(false);
  const [confirmingAdmin, setConfirmingAdmin] = useState(false);
  const [createReset, { isLoading: makingReset, error: resetError }] = useCreatePasswordResetMutation();
  const [reset, setReset] = useState<PasswordReset | null>(null);
  const admin = user.role === 'admin';
  const problem = error ?? roleError ?? resetError;
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-2 py-3" data-testid="account" data-username={user.username}>
      <div className="min-w-0 flex-1 basis-48">
        <p className="truncate text-sm font-medium">
          {user.username}
          {user.role === 'admin' && (
            <span className="ml-2 rounded bg-accent-100 px-1.5 py-0.5 text-xs text-accent-700 dark:bg-slate-800 dark:text-accent-300">admin</span>
          )}
          {user.disabled && (
            <span className="ml-2 rounded bg-rose-100 px-1.5 py-0.5 text-xs text-rose-700 dark:bg-rose-950 dark:text-rose-300">disabled</span>
          )}
        </p>
        <p className="truncate text-xs text-slate-500 dark:text-slate-400">
          {user.email} · since {new Date(user.createdAt).toLocaleDateString()}
        </p>
        {problem && (
          <p role="alert" className="text-xs text-rose-600">
            {errorText(problem)}
          </p>
        )}
      </div>
      {!isMe && (
        <button
          type="button"
          disabled={changingRole}
          // Making an admin hands over the whole server: asked first. Taking it back is not.
          onClick={() => (admin ? void setRole({ id: user.id, role: 'member' }) : setConfirmingAdmin(true))}
          aria-label={admin ? `Make ${user.username} a member` : `Make ${user.username} an admin`}
          className="rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 disabled:opacity-60 dark:text-slate-300 dark:hover:bg-slate-800"
        >
          {admin ? 'Make member' : 'Make admin'}
        </button>
      )}
      {!isMe && (
        <button
          type="button"
          disabled={makingReset}
          onClick={() => {
            void createReset(user.id).then((r) => {
              if ('data' in r && r.data) setReset(r.data.reset);
            });
          }}
          aria-label={`Password reset link for ${user.username}`}
          className="rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 disabled:opacity-60 dark:text-slate-300 dark:hover:bg-slate-800"
        >
          Reset password
        </button>
      )}
      {!isMe && (
        <button
          type="button"
          disabled={isLoading}
          // Disabling signs the person out at once, mid-sentence maybe: asked first. Enabling is harmless.
          onClick={() => (user.disabled ? void setDisabled({ id: user.id, disabled: false }) : setConfirming(true))}
          className={`rounded-lg px-3 py-1.5 text-sm font-medium disabled:opacity-60 ${
            user.disabled
              ? 'bg-accent-600 text-white hover:bg-accent-700'
              : 'border border-rose-300 text-rose-700 hover:bg-rose-50 dark:border-rose-800 dark:text-rose-300 dark:hover:bg-rose-950'
          }`}
        >
          {user.disabled ? `Enable ${user.username}` : `Disable ${user.username}`}
        </button>
      )}
      {confirmingAdmin && (
        <ConfirmDialog
          title={`Make ${user.username} an admin?`}
          text={`${user.username} (${user.email}) will be able to do everything you can here: choose who may sign up, invite people, disable accounts (yours too) and make admins.`}
          action="Make admin"
          onConfirm={() => void setRole({ id: user.id, role: 'admin' })}
          onClose={() => setConfirmingAdmin(false)}
        />
      )}
      {reset && <ResetLinkDialog user={user} reset={reset} onClose={() => setReset(null)} />}
      {confirming && (
        <ConfirmDialog
          title={`Disable ${user.username}?`}
          text={`${user.username} (${user.email}) will be signed out everywhere at once and will not be able to sign in until you enable the account again.`}
          action="Disable"
          onConfirm={() => void setDisabled({ id: user.id, disabled: true })}
          onClose={() => setConfirming(false)}
        />
      )}
    </li>
  );
}

export function AccountsSection() {
  const me = useAppSelector((s) => s.session.user?.id);
  // Fetched afresh each time the page opens: accounts come and change while it is away.
  const { data, error, isLoading, hasNextPage, fetchNextPage, isFetchingNextPage } = useAdminUsersInfiniteQuery(undefined, {
    refetchOnMountOrArgChange: true,
  });
  const users = data?.pages.flatMap((p) => p.users) ?? [];
  return (
    <Section
      title="Accounts"
      description="Admins can do everything on this page. Disabling an account signs it out everywhere at once and stops it from signing in. Someone who forgot their password gets a reset link from you."
    >
      {isLoading && <p className="text-sm text-slate-500">Loading…</p>}
      {error && <p role="alert" className="text-sm text-rose-600">{errorText(error)}</p>}
      <ul className="divide-y divide-slate-200 dark:divide-slate-800">
        {users.map((u) => (
          <AccountRow key={u.id} user={u} isMe={u.id === me} />
        ))}
      </ul>
      {hasNextPage && (
        <button
          type="button"
          disabled={isFetchingNextPage}
          onClick={() => void fetchNextPage()}
          className="mt-3 text-sm font-medium text-accent-600 hover:underline disabled:opacity-60 dark:text-accent-400"
        >
          {isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      )}
    </Section>
  );
}
