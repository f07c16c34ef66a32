// "New group": a name and the people in it; creating it opens it.
import { useId, useState, type FormEvent } from 'react';
import { errorText, useCreateConversationMutation } from '../../api/http';
import type { UserSummary } from '../../api/types';
import { titleFault, titleFaultText, trimTitle } from '../../features/chat/groupTitle';
import { navigate } from '../../lib/router';
import { buttonClass, Dialog } from '../Dialog';
import { MemberPicker } from './MemberPicker';

export const fieldClass =
  'w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-[15px] focus:border-accent-500 focus:ring-2 focus:ring-accent-500/30 focus:outline-none dark:border-slate-700 dark:bg-slate-800';

/** Under a group name field: why its form's button is off (as the composer says it under the box). */
export const noteClass = 'mt-1 text-xs text-rose-600 dark:text-rose-400';

export function NewGroupDialog({ onClose }: { onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<UserSummary[]>([]);
  const [create, { isLoading }] = useCreateConversationMutation();
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const fault = titleFault(title);
  const note = titleFaultText(title, fault);
  const canCreate = fault === null && members.length > 0 && !isLoading;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!canCreate) return;
    setError(null);
    const r = await create({ title: trimTitle(title), memberIds: members.map((u) => u.id) });
    if (r.data) {
      onClose();
      navigate(`/c/${r.data.conversation.id}`);
    } else {
      setError(errorText(r.error));
    }
  }

  return (
    <Dialog title="New group" onClose={onClose} wide>
      <form onSubmit={submit} className="flex min-h-0 flex-1 flex-col">
        <div className="px-5 pb-3">
          <label htmlFor={titleId} className="mb-1 block text-sm font-medium text-slate-700 dark:text-slate-300">
            Group name
          </label>
          <input
            id={titleId}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            autoComplete="off"
            autoFocus
            placeholder="Family, Book club, Team…"
            aria-invalid={note !== null}
            aria-describedby={note ? `${titleId}-note` : undefined}
            className={fieldClass}
          />
          {note && (
            <p id={`${titleId}-note`} className={noteClass}>
              {note}
            </p>
          )}
        </div>
        <p className="px-5 pb-1 text-sm font-medium text-slate-700 dark:text-slate-300">
          Members {members.length > 0 && <span className="font-normal text-slate-500">({members.length} chosen)</span>}
        </p>
        <MemberPicker selected={members} onChange={setMembers} />
        {error && (
          <p role="alert" className="mx-5 mb-2 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-800">
          <button type="button" onClick={onClose} className={buttonClass('plain')}>
            Cancel
          </button>
          <button type="submit" disabled={!canCreate} className={buttonClass('primary')}>
            Create group
          </button>
        </div>
      </form>
    </Dialog>
  );
}
