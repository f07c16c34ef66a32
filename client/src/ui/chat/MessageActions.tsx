// The "Message actions" button of one message: Reply, Edit, Delete (my messages) and React,
// all reachable with the keyboard.
import { useState } from 'react';
import type { Message, UserId } from '../../api/types';
import { useAppDispatch } from '../../app/hooks';
import { mayReact } from '../../features/chat/reactions';
import { composerModeSet } from '../../features/chat/viewSlice';
import { deleteRequested, reactRequested } from '../../sockets/actions';
import { ConfirmDialog } from '../Dialog';
import { ChevronDownIcon } from '../icons';
import { MenuList, Popover, useMenu, type MenuItem } from '../Menu';

/** The reactions offered in one tap (any single emoji is accepted by the server). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥'];

export function MessageActions({ message: m, mine, myId }: { message: Message; mine: boolean; myId: UserId | null }) {
  const dispatch = useAppDispatch();
  const { button, open, setOpen, close, dismiss } = useMenu();
  const [view, setView] = useState<'actions' | 'react'>('actions');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const target = { conversationId: m.conversationId, seq: m.seq };

  const emojis: MenuItem[] = QUICK_REACTIONS.filter((emoji) => mayReact(m.reactions, myId, emoji)).map((emoji) => {
    const on = myId !== null && m.reactions.some((r) => r.emoji === emoji && r.userIds.includes(myId));
    return {
      label: on ? `Take back ${emoji}` : `React with ${emoji}`,
      content: <span aria-hidden="true">{emoji}</span>,
      onSelect: () => dispatch(reactRequested({ ...target, emoji, on: !on })),
    };
  });

  const actions: MenuItem[] = [
    { label: 'Reply', onSelect: () => dispatch(composerModeSet({ conversationId: m.conversationId, mode: { kind: 'reply', seq: m.seq } })) },
    ...(mine
      ? [
          { label: 'Edit', onSelect: () => dispatch(composerModeSet({ conversationId: m.conversationId, mode: { kind: 'edit', seq: m.seq } })) },
          { label: 'Delete', danger: true, onSelect: () => setConfirmDelete(true) },
        ]
      : []),
    // Nothing to offer once the message holds all the reactions it may (mine taken back from the chips).
    ...(emojis.length > 0 ? [{ label: 'React', keepOpen: true, onSelect: () => setView('react') }] : []),
  ];

  return (
    <>
      <button
        ref={button}
        type="button"
        aria-label="Message actions"
        title="Message actions"
        aria-haspopup="menu"
        aria-expanded={open}
        data-testid="message-actions"
        onClick={() => {
          setView('actions');
          setOpen((v) => !v);
        }}
        className="inline-flex h-8 w-8 shrink-0 items-center justify-center self-center rounded-full bg-white/90 text-lg text-slate-500 opacity-0 shadow-sm ring-1 ring-slate-200 transition group-hover/row:opacity-100 hover:text-slate-800 focus-visible:opacity-100 aria-expanded:opacity-100 pointer-coarse:opacity-60 dark:bg-slate-800/90 dark:text-slate-300 dark:ring-slate-700 dark:hover:text-white"
      >
        <ChevronDownIcon />
      </button>
      {open && button.current && (
        <Popover anchor={button.current} align={mine ? 'end' : 'start'} onClose={dismiss}>
          {view === 'actions' ? (
            <MenuList key="actions" label="Message actions" items={actions} close={close} />
          ) : (
            <MenuList key="react" label="React" items={emojis} close={close} row />
          )}
        </Popover>
      )}
      {confirmDelete && (
        <ConfirmDialog
          title="Delete message?"
          text="It will be deleted for everyone in this chat."
          action="Delete"
          onConfirm={() => dispatch(deleteRequested(target))}
          onClose={() => setConfirmDelete(false)}
        />
      )}
    </>
  );
}
