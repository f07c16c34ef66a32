// Every account, oldest first: make admin or member again, disable or enable, a password reset
// link (see ResetLinkControls). Disabling ends the person's sessions at once.
import { useState } from 'react';
import { useAdminUsersInfiniteQuery, useSetUserDisabledMutation, useSetUserRoleMutation } from '../../api/admin';
import { errorText } from '../../api/http';
import type { AdminUser } from '../../api/types';
import { useAppSelector } from '../../app/hooks';
import { liveResetLink } from '../../features/admin/resetLinks';
import { ConfirmDialog } from '../Dialog';
import { ResetLinkControls, rowButtonClass } from './ResetLinkControls';
import { Section } from './Section';

function AccountRow({ user, isMe }: { user: AdminUser; isMe: boolean }) {
  const [setDisabled, { isLoading, error }] = useSetUserDisabledMutation();
  const [setRole, { isLoading: changingRole, error: roleError }] = useSetUserRoleMutation();
  const [confirming, setConfirming] = useState(false);
  const [confirmingAdmin, setConfirmingAdmin] = useState(false);
  const admin = user.role === 'admin';
  const problem = error ?? roleError;
  const resetUntil = liveResetLink(user, Date.now());
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
        {resetUntil && (
          <p className="text-xs text-amber-700 dark:text-amber-300" data-testid="live-reset-link">
            Password reset link works until {resetUntil.toLocaleString()}
          </p>
        )}
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
          className={rowButtonClass}
        >
          {admin ? 'Make member' : 'Make admin'}
        </button>
      )}
      {!isMe && <ResetLinkControls user={user} />}
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
