// "Change password": the current one as proof, the new one twice. Success ends every other
// session of the account (other tabs and devices are signed out) and keeps this tab signed in.
import { useId, useState, type FormEvent } from 'react';
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../api/generated/limits';
import { useChangePasswordMutation } from '../api/http';
import { useAppDispatch } from '../app/hooks';
import { noticeShown } from '../features/notices/noticesSlice';
import { changePasswordErrorText, newPasswordProblem } from '../features/session/authErrors';
import { buttonClass, Dialog } from './Dialog';
import { fieldClass } from './groups/NewGroupDialog';

export const PASSWORD_CHANGED = 'Password changed; other sessions were signed out.';

function PasswordField({
  label,
  value,
  onChange,
  autoComplete,
  describedBy,
  autoFocus = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  autoComplete: 'current-password' | 'new-password';
  describedBy?: string;
  autoFocus?: boolean;
}) {
  const id = useId();
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700 dark:text-slate-300">
        {label}
      </label>
      <input
        id={id}
        type="password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        autoComplete={autoComplete}
        autoFocus={autoFocus}
        required
        aria-describedby={describedBy}
        className={fieldClass}
      />
    </div>
  );
}

export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const dispatch = useAppDispatch();
  const [change, { isLoading }] = useChangePasswordMutation();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ruleId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (isLoading) return;
    const problem = newPasswordProblem(next) ?? (next !== repeat ? 'The two new passwords differ: type the same one twice.' : null);
    if (problem) return setError(problem);
    setError(null);
    const r = await change({ currentPassword: current, newPassword: next });
    if ('error' in r && r.error) {
      setError(changePasswordErrorText(r.error));
    } else {
      dispatch(noticeShown(PASSWORD_CHANGED));
      onClose();
    }
  }

  return (
    <Dialog title="Change password" onClose={onClose}>
      <form onSubmit={submit} noValidate className="flex min-h-0 flex-1 flex-col">
        <div className="space-y-3 overflow-y-auto px-5 pb-3">
          <PasswordField label="Current password" value={current} onChange={setCurrent} autoComplete="current-password" autoFocus />
          <PasswordField label="New password" value={next} onChange={setNext} autoComplete="new-password" describedBy={ruleId} />
          <PasswordField label="Repeat new password" value={repeat} onChange={setRepeat} autoComplete="new-password" describedBy={ruleId} />
          <p id={ruleId} className="text-xs text-slate-500 dark:text-slate-400">
            {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters. Changing it signs you out everywhere else: your other tabs and
            devices.
          </p>
          {error && (
            <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
              {error}
            </p>
          )}
        </div>
        <div className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-800">
          <button type="button" onClick={onClose} className={buttonClass('plain')}>
            Cancel
          </button>
          <button type="submit" disabled={isLoading || !current || !next || !repeat} className={buttonClass('primary')}>
            {isLoading ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
