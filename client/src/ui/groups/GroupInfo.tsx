// A group's info: its name (any member renames it), its members (the owner adds and removes
// them), each member's menu, and leaving.
import { useId, useState, type FormEvent } from 'react';
import { errorText } from '../../api/http';
import { useRemoveMemberMutation, useRenameConversationMutation } from '../../api/groups';
import type { GroupConversation, Member } from '../../api/types';
import { useAppDispatch, useAppSelector } from '../../app/hooks';
import { titleFault, titleFaultText, trimTitle } from '../../features/chat/groupTitle';
import { noticeShown } from '../../features/notices/noticesSlice';
import { counted } from '../../lib/sentence';
import { Avatar } from '../Avatar';
import { buttonClass, ConfirmDialog } from '../Dialog';
import { CloseIcon, GroupAddIcon, PencilIcon } from '../icons';
import { UserMenu } from '../UserMenu';
import { AddMembersDialog } from './AddMembersDialog';
import { fieldClass, noteClass } from './NewGroupDialog';

function Rename({ conversation, onDone }: { conversation: GroupConversation; onDone: () => void }) {
  const [title, setTitle] = useState(conversation.title);
  const [rename, { isLoading }] = useRenameConversationMutation();
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const fault = titleFault(title);
  const note = titleFaultText(title, fault);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (fault !== null || isLoading) return;
    const t = trimTitle(title);
    if (t === conversation.title) return onDone();
    const r = await rename({ id: conversation.id, title: t });
    if (r.data) onDone();
    else setError(errorText(r.error));
  }
  return (
    <form onSubmit={submit} className="w-full space-y-2">
      <label htmlFor={id} className="block text-left text-sm font-medium text-slate-700 dark:text-slate-300">
        Group name
      </label>
      <input
        id={id}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        autoFocus
        aria-invalid={note !== null}
        aria-describedby={note ? `${id}-note` : undefined}
        className={fieldClass}
      />
      {note && (
        <p id={`${id}-note`} className={`text-left ${noteClass}`}>
          {note}
        </p>
      )}
      {error && (
        <p role="alert" className="text-sm text-rose-600 dark:text-rose-400">
          {error}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <button type="button" onClick={onDone} className={buttonClass('plain')}>
          Cancel
        </button>
        <button type="submit" disabled={fault !== null || isLoading} className={buttonClass('primary')}>
          Save
        </button>
      </div>
    </form>
  );
}

export function GroupInfo({ conversation: c, onClose }: { conversation: GroupConversation; onClose: () => void }) {
  const dispatch = useAppDispatch();
  const me = useAppSelector((s) => s.session.user?.id);
  const [renaming, setRenaming] = useState(false);
  const [adding, setAdding] = useState(false);
  const [confirm, setConfirm] = useState<{ kind: 'leave' } | { kind: 'remove'; member: Member } | null>(null);
  const [remove] = useRemoveMemberMutation();
  const owner = c.members.find((m) => m.role === 'owner');
  const iAmOwner = owner?.id === me;

  async function removeMember(userId: string) {
    const r = await remove({ id: c.id, userId });
    if ('error' in r && r.error) dispatch(noticeShown(errorText(r.error)));
  }

  return (
    <aside
      aria-label="Group info"
      className="flex w-full min-w-0 flex-col border-l border-slate-200 bg-white lg:w-80 lg:shrink-0 dark:border-slate-800 dark:bg-slate-900"
    >
      <header className="flex items-center gap-2 border-b border-slate-200 px-2 py-2 dark:border-slate-800">
        <button
          type="button"
          aria-label="Close group info"
          onClick={onClose}
          className="inline-flex h-10 w-10 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
        >
          <CloseIcon />
        </button>
        <h2 className="font-semibold">Group info</h2>
      </header>
      <div className="scrollbar-thin min-h-0 flex-1 overflow-y-auto">
        <div className="flex flex-col items-center gap-2 px-5 py-5 text-center">
          <Avatar id={c.id} name={c.title} size="lg" group />
          {renaming ? (
            <Rename conversation={c} onDone={() => setRenaming(false)} />
          ) : (
            <>
              <p className="text-lg font-semibold break-words" data-testid="group-title">
                {c.title}
              </p>
              <p className="text-sm text-slate-500 dark:text-slate-400">Group · {counted(c.members.length, 'member')}</p>
              <button type="button" onClick={() => setRenaming(true)} className={buttonClass('accent')}>
                <PencilIcon /> Rename
              </button>
            </>
          )}
        </div>
        <section aria-label="Members" className="border-t border-slate-200 py-2 dark:border-slate-800">
          <div className="flex items-center justify-between px-5 py-1">
            <h3 className="text-sm font-semibold text-slate-500 dark:text-slate-400">{counted(c.members.length, 'member')}</h3>
            {iAmOwner && (
              <button type="button" onClick={() => setAdding(true)} className={buttonClass('accent')}>
                <GroupAddIcon /> Add members
              </button>
            )}
          </div>
          <ul>
            {c.members.map((m) => (
              <li key={m.id} data-testid="member" data-username={m.username} className="flex items-center gap-3 px-5 py-1.5">
                <Avatar id={m.id} name={m.username} size="sm" />
                <span className="min-w-0 flex-1 truncate">
                  {m.username}
                  {m.id === me && <span className="ml-1.5 text-xs text-slate-500 dark:text-slate-400">(you)</span>}
                </span>
                {m.role === 'owner' && (
                  <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 dark:bg-slate-800 dark:text-slate-300">owner</span>
                )}
                {m.id !== me && (
                  <UserMenu
                    user={m}
                    withMessage
                    extra={iAmOwner ? [{ label: `Remove ${m.username} from the group`, danger: true, onSelect: () => setConfirm({ kind: 'remove', member: m }) }] : []}
                    className="inline-flex h-8 w-8 items-center justify-center rounded-full text-lg text-slate-500 hover:bg-slate-100 dark:text-slate-400 dark:hover:bg-slate-800"
                  />
                )}
              </li>
            ))}
          </ul>
        </section>
        <div className="border-t border-slate-200 px-5 py-4 dark:border-slate-800">
          <button type="button" onClick={() => setConfirm({ kind: 'leave' })} className={`${buttonClass('dangerText')} w-full`}>
            Leave group
          </button>
        </div>
      </div>
      {adding && <AddMembersDialog conversation={c} onClose={() => setAdding(false)} />}
      {confirm?.kind === 'leave' && (
        <ConfirmDialog
          title={`Leave ${c.title}?`}
          text={
            iAmOwner && c.members.length > 1
              ? 'You will no longer see its messages. The member who joined first becomes its owner.'
              : 'You will no longer see its messages. The owner can add you again.'
          }
          action="Leave"
          onConfirm={() => me && void removeMember(me)}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm?.kind === 'remove' && (
        <ConfirmDialog
          title={`Remove ${confirm.member.username}?`}
          text={`${confirm.member.username} will no longer see this group's messages.`}
          action="Remove"
          onConfirm={() => void removeMember(confirm.member.id)}
          onClose={() => setConfirm(null)}
        />
      )}
    </aside>
  );
}
