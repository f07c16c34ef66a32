// An account's password reset link on the admin page: make one (asked first while one works:
// the new one voids it, and the person may already have it), show it once to copy, and revoke
// the one that works (sent to the wrong person, or no longer needed).
import { useState } from 'react';
import { useCreatePasswordResetMutation, useRevokePasswordResetMutation } from '../../api/admin';
import { errorText } from '../../api/http';
import type { AdminUser, PasswordReset } from '../../api/types';
import { liveResetLink, replaceResetLinkText } from '../../features/admin/resetLinks';
import { resetLink } from '../../features/session/passwordReset';
import { buttonClass, ConfirmDialog, Dialog } from '../Dialog';
import { CopyField } from './CopyField';

export const rowButtonClass =
  'rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 disabled:opacity-60 dark:text-slate-300 dark:hover:bg-slate-800';

/** The link just made, to copy and hand over (this server sends no email). */
function ResetLinkDialog({ user, reset, onClose }: { user: AdminUser; reset: PasswordReset; onClose: () => void }) {
  return (
    <Dialog title={`Password reset link for ${user.username}`} onClose={onClose} wide>
      <div className="space-y-3 px-5 pb-3" data-testid="reset-link">
        <p className="text-sm text-slate-600 dark:text-slate-300">
          Send this link to {user.username} ({user.email}) yourself, privately. Whoever opens it can set the account&apos;s password once,
          until {new Date(reset.expiresAt).toLocaleString()}; every device signed in to it is then signed out. Until then the
          password stays what it is. A newer link replaces this one, and you can revoke it from this list.
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

/** The "Reset password" and "Revoke link" buttons of an account's row, their questions and their error. */
export function ResetLinkControls({ user }: { user: AdminUser }) {
  const [create, { isLoading: making, error: makeError }] = useCreatePasswordResetMutation();
  const [revoke, { isLoading: revoking, error: revokeError }] = useRevokePasswordResetMutation();
  const [made, setMade] = useState<PasswordReset | null>(null);
  const [asking, setAsking] = useState<'replace' | 'revoke' | null>(null);
  const live = liveResetLink(user, Date.now());
  const problem = makeError ?? revokeError;

  function make() {
    void create(user.id).then((r) => {
      if ('data' in r && r.data) setMade(r.data.reset);
    });
  }

  return (
    <>
      <button
        type="button"
        disabled={making}
        onClick={() => (live ? setAsking('replace') : make())}
        aria-label={`Password reset link for ${user.username}`}
        className={rowButtonClass}
      >
        Reset password
      </button>
      {live && (
        <button
          type="button"
          disabled={revoking}
          onClick={() => setAsking('revoke')}
          aria-label={`Revoke the reset link for ${user.username}`}
          className={rowButtonClass}
        >
          Revoke link
        </button>
      )}
      {problem && (
        <p role="alert" className="basis-full text-xs text-rose-600">
          {errorText(problem)}
        </p>
      )}
      {asking === 'replace' && live && (
        <ConfirmDialog
          title={`Replace the reset link for ${user.username}?`}
          text={replaceResetLinkText(user.username, live)}
          action="Make a new link"
          onConfirm={make}
          onClose={() => setAsking(null)}
        />
      )}
      {asking === 'revoke' && (
        <ConfirmDialog
          title={`Revoke the reset link for ${user.username}?`}
          text={`The link will not set ${user.username}'s password any more, even if it was sent. The password stays what it is; you can make a new link later.`}
          action="Revoke link"
          onConfirm={() => void revoke(user.id)}
          onClose={() => setAsking(null)}
        />
      )}
      {made && <ResetLinkDialog user={user} reset={made} onClose={() => setMade(null)} />}
    </>
  );
}
