// The owner adds people to a group; they see its whole history.
import { useMemo, useState } from 'react';
import { errorText } from '../../api/http';
import { useAddMembersMutation } from '../../api/groups';
import type { GroupConversation, UserSummary } from '../../api/types';
import { buttonClass, Dialog } from '../Dialog';
import { MemberPicker } from './MemberPicker';

export function AddMembersDialog({ conversation, onClose }: { conversation: GroupConversation; onClose: () => void }) {
  const [chosen, setChosen] = useState<UserSummary[]>([]);
  const [add, { isLoading }] = useAddMembersMutation();
  const [error, setError] = useState<string | null>(null);
  const members = useMemo(() => new Set(conversation.members.map((m) => m.id)), [conversation.members]);

  async function submit() {
    setError(null);
    const r = await add({ id: conversation.id, userIds: chosen.map((u) => u.id) });
    if (r.data) onClose();
    else setError(errorText(r.error));
  }

  return (
    <Dialog title="Add members" onClose={onClose} wide>
      <MemberPicker selected={chosen} onChange={setChosen} exclude={members} />
      {error && (
        <p role="alert" className="mx-5 mb-2 rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-950/50 dark:text-rose-300">
          {error}
        </p>
      )}
      <div className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3 dark:border-slate-800">
        <button type="button" onClick={onClose} className={buttonClass('plain')}>
          Cancel
        </button>
        <button type="button" disabled={chosen.length === 0 || isLoading} onClick={() => void submit()} className={buttonClass('primary')}>
          {chosen.length > 1 ? `Add ${chosen.length} people` : 'Add'}
        </button>
      </div>
    </Dialog>
  );
}
